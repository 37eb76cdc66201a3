"""The message composer: what to send, how it is encoded, and where it goes.

It validates as you type so a bad escape or odd hex is flagged before Enter, and it never
sends bytes it cannot stand behind: an invalid message or a missing target sends nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from workbench.codec import EncodeError, LineEnding, Mode, cycle_line_ending, cycle_mode, encode

HISTORY_LIMIT = 500
MODE_LABELS = {Mode.TEXT: "text", Mode.ESCAPES: "esc", Mode.HEX: "hex"}
LINE_ENDING_LABELS = {LineEnding.NONE: "none", LineEnding.LF: "LF", LineEnding.CRLF: "CRLF"}
PLACEHOLDERS = {
    Mode.TEXT: "type text, Enter sends",
    Mode.ESCAPES: r"text with \r \n \t \0 \xNN escapes",
    Mode.HEX: "hex bytes: de ad be ef",
}
NO_TARGET = "nothing to send to: open a client tab (F6) or listen (F5)"


class ClickableLabel(Static):
    """A label that asks its composer to cycle a setting when clicked."""

    class Clicked(Message):
        def __init__(self, label: ClickableLabel) -> None:
            super().__init__()
            self.label = label

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self))


class Composer(Widget):
    """One line to type a message; Enter posts ``Composer.Send`` with the encoded bytes."""

    DEFAULT_CSS = """
    Composer { height: auto; padding: 0 1; background: $panel; }
    Composer > Horizontal { height: 1; }
    Composer .composer-setting {
        width: auto; padding: 0 1; margin-right: 1; background: $primary 30%; color: $text;
    }
    Composer #composer-target { width: auto; max-width: 45%; color: $text-accent; margin-right: 1; }
    Composer #composer-target.-dead { color: $text-muted; }
    Composer #composer-input { width: 1fr; }
    Composer #composer-input.-invalid { color: $text-error; }
    Composer #composer-error { display: none; color: $text-error; height: 1; }
    Composer #composer-error.-shown { display: block; }
    """

    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    mode: reactive[Mode] = reactive(Mode.TEXT)
    line_ending: reactive[LineEnding] = reactive(LineEnding.LF)
    target_label: reactive[str] = reactive("")
    can_send: reactive[bool] = reactive(False)

    class Send(Message):
        """The user pressed Enter on a valid message."""

        def __init__(self, data: bytes, text: str, mode: Mode) -> None:
            super().__init__()
            self.data = data
            self.text = text
            self.mode = mode

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ClickableLabel(id="composer-mode", classes="composer-setting")
            yield ClickableLabel(id="composer-ending", classes="composer-setting")
            yield Static(id="composer-target")
            yield Input(id="composer-input", compact=True, placeholder=PLACEHOLDERS[self.mode])
        yield Static(id="composer-error")

    def on_mount(self) -> None:
        self._show_settings()

    @property
    def input(self) -> Input:
        return self.query_one("#composer-input", Input)

    def focus_input(self) -> None:
        self.input.focus()

    def cycle_mode(self) -> None:
        self.mode = cycle_mode(self.mode)

    def cycle_line_ending(self) -> None:
        self.line_ending = cycle_line_ending(self.line_ending)

    def watch_mode(self) -> None:
        if self.is_mounted:
            self.input.placeholder = PLACEHOLDERS[self.mode]
            self._show_settings()
            self._validate()

    def watch_line_ending(self) -> None:
        if self.is_mounted:
            self._show_settings()

    def watch_target_label(self, label: str) -> None:
        self.query_one("#composer-target", Static).update(Text(label, no_wrap=True))

    def watch_can_send(self, can_send: bool) -> None:
        self.query_one("#composer-target").set_class(not can_send, "-dead")

    def _show_settings(self) -> None:
        ending = "—" if self.mode is Mode.HEX else LINE_ENDING_LABELS[self.line_ending]
        self.query_one("#composer-mode", Static).update(Text(MODE_LABELS[self.mode]))
        self.query_one("#composer-ending", Static).update(Text(ending))

    def on_clickable_label_clicked(self, message: ClickableLabel.Clicked) -> None:
        if message.label.id == "composer-mode":
            self.cycle_mode()
        else:
            self.cycle_line_ending()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._validate()

    def _validate(self) -> bytes | None:
        """Encode the current text; show why not inline when it cannot be encoded."""
        try:
            data = encode(self.input.value, self.mode, self.line_ending)
        except EncodeError as exc:
            self.input.add_class("-invalid")
            self._notice(str(exc))
            return None
        self.input.remove_class("-invalid")
        self._notice("")
        return data

    def _notice(self, text: str) -> None:
        notice = self.query_one("#composer-error", Static)
        notice.update(Text(text))
        notice.set_class(bool(text), "-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        data = self._validate()
        if data is None:
            return
        if not data:
            return
        if not self.can_send:
            self._notice(NO_TARGET)
            return
        text = self.input.value
        self.post_message(self.Send(data, text, self.mode))
        self._remember(text)
        self.input.value = ""

    def _remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._history_index = None

    def action_history(self, step: int) -> None:
        """Up walks back through sent messages; Down past the newest restores the draft."""
        if not self.history:
            return
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.input.value
            index = len(self.history) - 1
        else:
            index = self._history_index + step
        if index >= len(self.history):
            self._history_index = None
            self._set_input(self._draft)
            return
        self._history_index = max(index, 0)
        self._set_input(self.history[self._history_index])

    def _set_input(self, text: str) -> None:
        self.input.value = text
        self.input.cursor_position = len(text)
