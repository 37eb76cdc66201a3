"""The composer's target line: where Enter sends, and the keys that change where.

Its own widget so the composer is about typing and sending. The composer binds its
``target_label``, ``target_keys`` and ``can_send`` to this line's ``label``, ``keys`` and
``live``; the app sets them on the composer. Both are drawn as plain ``Content`` (addresses
are shown literally, never parsed as markup), and a label is only updated when its text
changed: a relayout costs a frame, and the app sets the target on every pane refresh.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static


class ComposerTarget(Horizontal):
    """``label`` left (muted while not ``live``), ``keys`` right; tooltips hold what is cut."""

    DEFAULT_CSS = """
    ComposerTarget {
        height: 1;
        & #composer-target {
            width: auto;
            max-width: 70%;
            margin-right: 2;
            color: $text-accent;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            &.-dead { color: $text-muted; }
        }
        & #composer-target-keys {
            width: 1fr;
            color: $text-muted;
            text-align: right;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    label: reactive[str] = reactive("")
    """Where Enter sends; addresses in it are shown literally."""
    keys: reactive[str] = reactive("")
    """The keys that change the target."""
    live: reactive[bool] = reactive(False)
    """False while the target cannot take bytes: the label is muted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[Static, str] = {}  # what each label shows now
        self._built = False  # children composed and mounted: on_mount, before is_mounted

    def compose(self) -> ComposeResult:
        yield Static(id="composer-target")
        yield Static(id="composer-target-keys")

    # Reactives can be set before compose has built the children; on_mount catches up then.
    def on_mount(self) -> None:
        self._built = True
        self._refresh()

    def watch_label(self) -> None:
        self._refresh()

    def watch_keys(self) -> None:
        self._refresh()

    def watch_live(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if not self._built:
            return
        target = self.query_one("#composer-target", Static)
        self._put(target, self.label)
        target.set_class(not self.live, "-dead")
        self._put(self.query_one("#composer-target-keys", Static), self.keys)

    def _put(self, label: Static, text: str) -> None:
        """Show ``text`` literally, with itself as the tooltip; nothing at all if unchanged."""
        if self._shown.get(label) == text:
            return
        self._shown[label] = text
        label.update(Content(text))
        label.tooltip = Content(text) if text else None
