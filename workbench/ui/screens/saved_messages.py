"""The saved messages dialog: send one again, load it into the composer, or file the
composer's text away under a name. Keyboard-first: every action is a single key.

The screen changes the store itself (save, rename, delete) but never sends: it hands the
chosen message back to the app, which knows where the composer is aimed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from workbench.codec import EncodeError, LineEnding, Mode
from workbench.safe_text import escape_bytes, hex_inline
from workbench.saved_messages import MessageError, MessageExists, MessageStore, SavedMessage
from workbench.settings import SaveError
from workbench.ui.widgets.composer_settings import LINE_ENDING_LABELS, MODE_LABELS
from workbench.wording import quoted

HELP = "Enter/s send · e edit in composer · n save composer text · r rename · d delete · Esc"
EMPTY = "No saved messages yet: n saves what the composer holds."
PREVIEW_BYTES = 120


@dataclass(frozen=True)
class MessageChoice:
    """What the user picked: send ``message`` now, or load it into the composer to edit."""

    action: Literal["send", "edit"]
    message: SavedMessage


def describe_mode(message: SavedMessage) -> str:
    """The composer's own labels, so a saved message reads like the composer that made it."""
    if message.mode is Mode.HEX:
        return MODE_LABELS[message.mode]
    return f"{MODE_LABELS[message.mode]} {LINE_ENDING_LABELS[message.line_ending]}"


def preview(message: SavedMessage) -> str:
    """The bytes Enter would send, escaped: inert whatever the text holds."""
    data = message.data()
    if message.mode is Mode.HEX:
        return hex_inline(data, limit=PREVIEW_BYTES // 3)
    return escape_bytes(data, limit=PREVIEW_BYTES)


class MessagesScreen(ModalScreen[MessageChoice | None]):
    """The list of saved messages, plus a name prompt for saving and renaming."""

    DEFAULT_CSS = """
    MessagesScreen { align: center middle; }
    MessagesScreen > Vertical {
        width: 90%; max-width: 120; height: 80%; border: round $accent; background: $panel;
        padding: 0 1;
    }
    MessagesScreen DataTable { height: 1fr; }
    MessagesScreen #messages-name { display: none; }
    MessagesScreen #messages-name.-shown { display: block; }
    MessagesScreen #messages-status { height: auto; color: $text-muted; }
    MessagesScreen #messages-status.-error { color: $text-error; }
    """

    BINDINGS = [
        Binding("s", "send", "Send"),
        Binding("e", "edit", "Edit in composer"),
        Binding("n", "new", "Save composer text"),
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete"),
        Binding("escape", "close", "Close"),
    ]
    AUTO_FOCUS = "#messages-table"  # focused as the screen is built: no typed key is lost

    def __init__(
        self,
        store: MessageStore,
        text: str = "",
        mode: Mode = Mode.TEXT,
        line_ending: LineEnding = LineEnding.LF,
    ) -> None:
        super().__init__()
        self._store = store
        self._draft = SavedMessage("", text, mode, line_ending)
        self._renaming: str | None = None  # the name being changed; None while saving new
        self._armed: tuple[str, str] | None = None  # (action, name) awaiting a second press

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(HELP)
            yield DataTable(id="messages-table", cursor_type="row")
            yield Input(id="messages-name", placeholder="name, Enter saves, Esc cancels")
            yield Static(id="messages-status")

    def on_mount(self) -> None:
        table = self._table
        table.add_column("name", key="name")
        table.add_column("mode", key="mode")
        table.add_column("sends", key="sends")
        self._show_rows()

    @property
    def _table(self) -> DataTable[Text]:
        return self.query_one("#messages-table", DataTable)

    @property
    def _name_input(self) -> Input:
        return self.query_one("#messages-name", Input)

    def _show_rows(self, select: str | None = None) -> None:
        """Redraw from the store, keeping the cursor on ``select`` or near where it was."""
        table = self._table
        row = table.cursor_row
        table.clear()
        for message in self._store.messages:
            cells = (message.name, describe_mode(message), preview(message))
            table.add_row(*(Text(cell, no_wrap=True) for cell in cells), key=message.name)
        if select is not None:
            row = table.get_row_index(select)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._status(self._idle_status())

    def _idle_status(self) -> str:
        """What the status line says when nothing happened: what is missing from the list."""
        kept = len(self._store.unreadable)
        if kept:
            some = "1 saved message" if kept == 1 else f"{kept} saved messages"
            return f"{some} in {self._store.path} could not be read; kept there unchanged."
        return "" if self._table.row_count else EMPTY

    def _selected(self) -> SavedMessage | None:
        table = self._table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._store.get(str(row_key.value))

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#messages-status", Static)
        status.update(Text(text))
        status.set_class(error, "-error")

    def _confirmed(self, action: str, name: str) -> bool:
        """True on the second press of the same risky action on the same message."""
        if self._armed == (action, name):
            self._armed = None
            return True
        self._armed = (action, name)
        return False

    # -- choosing ------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_send()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._armed = None

    def action_send(self) -> None:
        if message := self._selected():
            self.dismiss(MessageChoice("send", message))

    def action_edit(self) -> None:
        if message := self._selected():
            self.dismiss(MessageChoice("edit", message))

    def action_delete(self) -> None:
        message = self._selected()
        if message is None:
            return
        if not self._confirmed("delete", message.name):
            self._status(f"Delete {quoted(message.name)}? Press d again to delete it.")
            return
        try:
            self._store.delete(message.name)
        except (MessageError, SaveError) as exc:
            self._status(str(exc), error=True)
            return
        self._show_rows()
        if self._table.row_count:
            self._status(f"Deleted {quoted(message.name)}.")
        self._tell_note()

    def action_close(self) -> None:
        """Escape backs out of the name prompt first, then out of the dialog."""
        if self._name_input.has_class("-shown"):
            self._close_prompt()
        else:
            self.dismiss(None)

    # -- naming --------------------------------------------------------------------------------

    def action_new(self) -> None:
        if not self._draft.text:
            self._status("The composer is empty: type the message there, then n.", error=True)
            return
        try:
            self._draft.data()
        except EncodeError as exc:
            self._status(f"The composer's text cannot be sent: {exc}", error=True)
            return
        self._renaming = None
        self._open_prompt("", f"Name for {quoted(preview(self._draft))}:")

    def action_rename(self) -> None:
        if message := self._selected():
            self._renaming = message.name
            self._open_prompt(message.name, f"New name for {quoted(message.name)}:")

    def _open_prompt(self, value: str, status: str) -> None:
        self._armed = None
        name_input = self._name_input
        name_input.value = value
        name_input.add_class("-shown")
        self.set_focus(name_input)  # now, not after a refresh: the name's first keys follow
        self._status(status)

    def _close_prompt(self) -> None:
        self._armed = None
        self._name_input.remove_class("-shown")
        self.set_focus(self._table)
        self._status(self._idle_status())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        try:
            if self._renaming is not None:
                saved = self._store.rename(self._renaming, name)
            else:
                saved = self._save_draft(name)
        except (MessageError, SaveError) as exc:
            self._status(str(exc), error=True)
            return
        self._close_prompt()
        self._show_rows(select=saved.name)
        self._status(f"Saved {quoted(saved.name)}.")
        self._tell_note()

    def _tell_note(self) -> None:
        """A damaged file kept aside by that save: said here and in a notice that outlives
        the dialog."""
        if note := self._store.take_note():
            self._status(note)
            self.app.notify(note, severity="warning", timeout=15, markup=False)

    def _save_draft(self, name: str) -> SavedMessage:
        """Save the composer's message as ``name``; a taken name needs Enter twice."""
        replacing = self._armed == ("replace", name)
        try:
            return self._store.add(replace(self._draft, name=name), replace_existing=replacing)
        except MessageExists as exc:
            self._armed = ("replace", name)
            raise MessageExists(f"{exc}: press Enter again to replace it") from None
