"""The composer's settings, left of the input: its mode and the line ending Enter adds.

Its own widget so the composer is about typing and sending. The composer binds its ``mode``
and ``line_ending`` to this bar's and cycles them when a setting is clicked (as F2/F3 do); the
labels are also how saved messages describe the composer that made them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from workbench.codec import LineEnding, Mode

MODE_LABELS = {Mode.TEXT: "text", Mode.ESCAPES: "esc", Mode.HEX: "hex"}
LINE_ENDING_LABELS = {LineEnding.NONE: "none", LineEnding.LF: "LF", LineEnding.CRLF: "CRLF"}
NO_LINE_ENDING = "—"
"""Shown for the line ending in hex mode, where hex names every byte and nothing is appended."""


class ComposerSettings(Horizontal):
    """``mode`` and ``line_ending`` as two small buttons; the ending is muted in hex mode."""

    DEFAULT_CSS = """
    ComposerSettings {
        width: auto;
        height: 1;
        & .composer-setting {
            width: auto;
            padding: 0 1;
            margin-right: 1;
            background: $primary 30%;
            color: $text;
            &:hover { background: $primary 60%; }
            &.-inactive { color: $text-muted; }
        }
    }
    """

    mode: reactive[Mode] = reactive(Mode.TEXT)
    line_ending: reactive[LineEnding] = reactive(LineEnding.LF)

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[Static, str] = {}  # what each label shows now
        self._built = False  # children composed and mounted: on_mount, before is_mounted

    def compose(self) -> ComposeResult:
        yield Static(id="composer-mode", classes="composer-setting")
        yield Static(id="composer-ending", classes="composer-setting")

    # Reactives can be set before compose has built the children; on_mount catches up then.
    def on_mount(self) -> None:
        self._built = True
        self._refresh()

    def watch_mode(self) -> None:
        self._refresh()

    def watch_line_ending(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if not self._built:
            return
        hex_mode = self.mode is Mode.HEX
        ending = NO_LINE_ENDING if hex_mode else LINE_ENDING_LABELS[self.line_ending]
        self._put(self.query_one("#composer-mode", Static), MODE_LABELS[self.mode])
        ending_label = self.query_one("#composer-ending", Static)
        self._put(ending_label, ending)
        ending_label.set_class(hex_mode, "-inactive")

    def _put(self, label: Static, text: str) -> None:
        """Show ``text`` literally; no relayout (which costs a frame) if unchanged."""
        if self._shown.get(label) != text:
            self._shown[label] = text
            label.update(Content(text))
