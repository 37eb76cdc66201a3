"""The message composer: what to send, how it is encoded, and where it goes.

It validates as you type so a bad escape or odd hex is flagged before Enter, and it never
sends bytes it cannot stand behind: an invalid message or a missing target sends nothing.
Everything shown here that the app or the user supplied (target addresses, error messages
quoting typed characters) is drawn as plain ``Content``, never parsed as markup.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from workbench import codec
from workbench.codec import EncodeError, LineEnding, Mode
from workbench.ui.sent_history import HISTORY_LIMIT, SentHistory
from workbench.ui.widgets.composer_input import ComposerInput
from workbench.ui.widgets.composer_settings import ComposerSettings
from workbench.ui.widgets.composer_target import ComposerTarget

PLACEHOLDERS = {
    Mode.TEXT: "type text, Enter sends",
    Mode.ESCAPES: r"text with \r \n \t \0 \xNN escapes",
    Mode.HEX: "hex bytes: de ad be ef",
}
VALIDATE_AT_ONCE_LIMIT = 64 * 1024
"""Characters up to which every key validates the whole message at once (about 5 ms at most)."""
VALIDATE_PAUSE = 0.25
"""Seconds without a key after which a longer message is validated."""
NO_TARGET = "no target: open a client tab (F6), or listen (F5) and wait for a peer"


class Composer(Widget):
    """One line to type a message; Enter posts ``Composer.Send`` with the encoded bytes."""

    DEFAULT_CSS = """
    Composer {
        height: auto;
        padding: 0 1;
        background: $panel;
        & > Horizontal { height: 1; }
        & #composer-input { width: 1fr; }
        & #composer-input.-invalid { color: $text-error; }
        & #composer-error {
            display: none;
            height: 1;
            color: $text-error;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            &.-shown { display: block; }
            &.-notice { color: $text-warning; }
        }
        & #composer-file {
            display: none;
            height: 1;
            color: $text-accent;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            &.-shown { display: block; }
        }
    }
    """

    # Input binds neither key, so they reach us while the user types.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    mode: reactive[Mode] = reactive(Mode.TEXT)
    line_ending: reactive[LineEnding] = reactive(LineEnding.LF)
    target_label: reactive[str] = reactive("")
    """Where Enter sends, set by the app; shown on the target line (``ComposerTarget``)."""
    target_keys: reactive[str] = reactive("")
    """The keys that change the target, set by the app; shown right of it, on its own line."""
    can_send: reactive[bool] = reactive(False)
    """False while the target is not live: Enter then explains instead of sending."""
    file_progress: reactive[str] = reactive("")
    """A file send's progress (or how it ended), set by the app; shown as plain text."""

    class Send(Message):
        """The user pressed Enter on a valid message and there is somewhere to send it."""

        def __init__(self, data: bytes, text: str, mode: Mode) -> None:
            super().__init__()
            self.data = data
            self.text = text
            self.mode = mode

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._history = SentHistory(HISTORY_LIMIT)
        self._shown: dict[Static, str] = {}  # what each label shows now
        self._paste_note = ""  # how the last multi-line paste is spelled, until sent or cleared
        self._validate_later: Timer | None = None  # a big message's check, once typing pauses
        self._built = False  # children composed and mounted: on_mount, before is_mounted
        self.no_target = NO_TARGET
        """Why Enter cannot send now, and what would give it a target; set by the app."""

    def compose(self) -> ComposeResult:
        yield ComposerTarget(id="composer-target-line").data_bind(
            label=Composer.target_label, keys=Composer.target_keys, live=Composer.can_send
        )
        with Horizontal():
            yield ComposerSettings().data_bind(Composer.mode, Composer.line_ending)
            yield ComposerInput(
                self._submit, self.paste, id="composer-input", placeholder=PLACEHOLDERS[self.mode]
            )
        yield Static(id="composer-error")
        yield Static(id="composer-file")

    def on_mount(self) -> None:
        self._built = True
        self._refresh()

    @property
    def input(self) -> Input:
        return self.query_one("#composer-input", Input)

    # -- the app's controls --------------------------------------------------------------------

    def focus_input(self) -> None:
        self.input.focus()

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode

    def cycle_mode(self) -> None:
        self.mode = codec.cycle_mode(self.mode)

    def cycle_line_ending(self) -> None:
        self.line_ending = codec.cycle_line_ending(self.line_ending)

    # Reactives can be set before compose has built the children; on_mount catches up then.
    def watch_mode(self) -> None:
        self._paste_note = ""  # it explains escapes mode; a new mode makes it stale
        self._refresh()

    def watch_line_ending(self) -> None:
        self._refresh()

    def watch_can_send(self) -> None:
        self._refresh()  # a target appearing retires the "no target" notice

    def watch_file_progress(self, text: str) -> None:
        if self.is_mounted:
            row = self.query_one("#composer-file", Static)
            row.update(Content(text), layout=False)  # one row, or not displayed at all
            row.tooltip = Content(text) if text else None
            row.set_class(bool(text), "-shown")

    def explain_no_target(self) -> None:
        """Say, where the user looks, that there is nowhere to send to yet."""
        self._show_error(self.no_target, notice=True)

    def _refresh(self) -> None:
        if not self._built:
            return
        self.input.placeholder = PLACEHOLDERS[self.mode]
        self._validate()

    def _put(self, label: Static, text: str) -> bool:
        """Show ``text`` literally; False (and no relayout, which costs a frame) if unchanged."""
        if self._shown.get(label) == text:
            return False
        self._shown[label] = text
        label.update(Content(text))
        return True

    def on_click(self, event: events.Click) -> None:
        """Clicking a setting cycles it, as F2/F3 do, for those who reach for the mouse."""
        clicked = event.widget.id if event.widget else None
        if clicked == "composer-mode":
            self.cycle_mode()
        elif clicked == "composer-ending":
            self.cycle_line_ending()

    # -- validating and sending ---------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate as you type; past ``VALIDATE_AT_ONCE_LIMIT`` characters, once typing pauses,
        so each key of a big message shows at once (Enter still validates before sending)."""
        event.stop()
        if self._validate_later is not None:
            self._validate_later.stop()
            self._validate_later = None
        if len(event.value) <= VALIDATE_AT_ONCE_LIMIT:
            self._validate()
        else:
            self._validate_later = self.set_timer(VALIDATE_PAUSE, self._validate_after_pause)

    def _validate_after_pause(self) -> None:
        self._validate_later = None
        self._validate()

    def _validate(self, *, encode: bool = False) -> bytes | None:
        """Check the current text (and with ``encode``, return its bytes), or say inline why
        it cannot be sent as it stands. A check builds no bytes: a megabyte of escapes checks
        in tens of milliseconds but takes a few hundred to encode, which only Enter needs."""
        text = self.input.value
        try:
            if encode:
                data = codec.encode(text, self.mode, self.line_ending)
            else:
                codec.check(text, self.mode)
                data = b""
        except EncodeError as error:
            self.input.add_class("-invalid")
            self._show_error(error.message)
            return None
        self.input.remove_class("-invalid")
        if not text:
            self._paste_note = ""
        self._show_error(self._paste_note, notice=bool(self._paste_note))
        return data

    def _show_error(self, text: str, *, notice: bool = False) -> None:
        """One row below the input; the tooltip carries what an 80-column row cuts off."""
        label = self.query_one("#composer-error", Static)
        if self._put(label, text):
            label.tooltip = Content(text) if text else None
        label.set_class(bool(text), "-shown")
        label.set_class(notice, "-notice")

    def _submit(self) -> None:
        """Enter: called by the input as the key arrives, so ``text`` is exactly what was typed
        before it, and the line is cleared before any key typed after it lands."""
        text = self.input.value
        data = self._validate(encode=True)
        if data is None:
            return  # the error stays up and the text stays put for fixing
        if not data:
            return  # empty hex, or empty text with no line ending: nothing to send
        if not self.can_send:
            self._show_error(self.no_target, notice=True)
            return
        self.post_message(self.Send(data, text, self.mode))
        self._history.remember(text)
        self._paste_note = ""
        self.input.value = ""

    # -- pasting ------------------------------------------------------------------------------

    def paste(self, text: str) -> None:
        """Put pasted ``text`` at the cursor, keeping every line (``codec.spell_paste`` says
        how); a text-mode paste with line breaks switches to escapes mode and says so below."""
        pasted = codec.spell_paste(text, self.mode, self.line_ending)
        if pasted.mode is not self.mode:
            self._respell_as_escapes()
        self._insert(pasted.text)
        if pasted.note:
            self._paste_note = pasted.note
            self._validate()

    def _respell_as_escapes(self) -> None:
        """Switch to escapes mode, respelling what is typed so it still sends the same bytes."""
        field = self.input
        start, end = sorted(field.selection)
        before = codec.text_to_escapes(field.value[:start])
        after = codec.text_to_escapes(field.value[end:])
        self.mode = Mode.ESCAPES
        field.value = before + after
        field.cursor_position = len(before)

    def _insert(self, text: str) -> None:
        """Put ``text`` at the cursor, replacing any selection, as typing it would."""
        field = self.input
        if field.selection.is_empty:
            field.insert_text_at_cursor(text)
        else:
            field.replace(text, *field.selection)

    # -- history ------------------------------------------------------------------------------

    @property
    def history(self) -> list[str]:
        """Sent messages, oldest first, without consecutive repeats (the app may persist it)."""
        return self._history.messages

    @history.setter
    def history(self, messages: list[str]) -> None:
        self._history.messages = messages

    def action_history(self, step: int) -> None:
        """Up walks back through sent messages; Down past the newest restores the draft."""
        text = self._history.step(step, self.input.value)
        if text is not None:
            self.input.value = text
            self.input.cursor_position = len(text)
