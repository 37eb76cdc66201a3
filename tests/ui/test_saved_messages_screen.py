"""The saved messages dialog, driven by keys through the Pilot against a real store on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Static

from workbench.codec import LineEnding, Mode
from workbench.saved_messages import MessageStore, SavedMessage
from workbench.ui.screens.saved_messages import MessageChoice, MessagesScreen

pytestmark = pytest.mark.asyncio


class Host(App[None]):
    """Opens the dialog on start and keeps whatever it hands back."""

    def __init__(self, store: MessageStore, text: str, mode: Mode = Mode.TEXT) -> None:
        super().__init__()
        self.screen_under_test = MessagesScreen(store, text, mode, LineEnding.CRLF)
        self.results: list[MessageChoice | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.screen_under_test, self.results.append)


def store_in(tmp_path: Path, *messages: SavedMessage) -> MessageStore:
    store = MessageStore(tmp_path / "messages.json")
    store.load()
    for message in messages:
        store.add(message)
    return store


def table_rows(app: Host) -> list[list[str]]:
    table: DataTable[object] = app.screen_under_test.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


def status(app: Host) -> str:
    return str(app.screen_under_test.query_one("#messages-status", Static).render())


async def test_save_list_and_delete(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    app = Host(store, r"GET /\r\n", Mode.ESCAPES)
    async with app.run_test() as pilot:
        assert table_rows(app) == []
        await pilot.press("n", *"send greeting", "enter")  # s, e, n, d and r type, not act
        assert table_rows(app) == [["send greeting", "esc CRLF", r"GET /\r\n\r\n"]]
        assert not app.screen_under_test.query_one(Input).has_class("-shown")
        assert MessageStore(store.path).load() is None
        saved = SavedMessage("send greeting", r"GET /\r\n", Mode.ESCAPES, LineEnding.CRLF)
        assert store.messages == (saved,)

        await pilot.press("d")
        assert "Press d again" in status(app)
        assert len(table_rows(app)) == 1
        await pilot.press("d")
        assert table_rows(app) == []
        reloaded = MessageStore(store.path)
        reloaded.load()
        assert reloaded.messages == ()
    assert app.results == []


async def test_a_taken_name_needs_enter_twice(tmp_path: Path) -> None:
    store = store_in(tmp_path, SavedMessage("hello", "old"))
    app = Host(store, "new")
    async with app.run_test() as pilot:
        await pilot.press("n", *"hello", "enter")
        assert "press Enter again to replace it" in status(app)
        assert store.messages == (SavedMessage("hello", "old"),)
        await pilot.press("enter")
        assert store.messages == (SavedMessage("hello", "new", line_ending=LineEnding.CRLF),)
        assert table_rows(app)[0][2] == r"new\r\n"


async def test_enter_sends_the_selected_message(tmp_path: Path) -> None:
    first, second = SavedMessage("one", "1"), SavedMessage("two", "de ad", Mode.HEX)
    app = Host(store_in(tmp_path, first, second), "")
    async with app.run_test() as pilot:
        assert table_rows(app)[1] == ["two", "hex", "de ad"]
        await pilot.press("down", "enter")
    assert app.results == [MessageChoice("send", second)]


async def test_s_sends_and_e_edits(tmp_path: Path) -> None:
    message = SavedMessage("one", "1")
    for key, action in (("s", "send"), ("e", "edit")):
        app = Host(store_in(tmp_path / key, message), "")
        async with app.run_test() as pilot:
            await pilot.press(key)
        assert app.results == [MessageChoice(action, message)]  # type: ignore[arg-type]


async def test_rename_then_escape_backs_out_step_by_step(tmp_path: Path) -> None:
    store = store_in(tmp_path, SavedMessage("one", "1"))
    app = Host(store, "")
    async with app.run_test() as pilot:
        await pilot.press("r", "ctrl+u", *"uno", "enter")
        assert table_rows(app)[0][0] == "uno"
        await pilot.press("r", "escape")
        assert not app.screen_under_test.query_one(Input).has_class("-shown")
        assert app.results == []
        await pilot.press("escape")
    assert app.results == [None]
    assert [m.name for m in store.messages] == ["uno"]


async def test_nothing_to_save_is_explained(tmp_path: Path) -> None:
    app = Host(store_in(tmp_path), "", Mode.TEXT)
    async with app.run_test() as pilot:
        await pilot.press("n")
        assert "composer is empty" in status(app)
        assert not app.screen_under_test.query_one(Input).has_class("-shown")


async def test_unsendable_composer_text_is_not_saved(tmp_path: Path) -> None:
    app = Host(store_in(tmp_path), "abc", Mode.HEX)
    async with app.run_test() as pilot:
        await pilot.press("n")
        assert "cannot be sent" in status(app)


async def test_hostile_names_and_payloads_show_as_plain_text(tmp_path: Path) -> None:
    message = SavedMessage("[bold]x[/]", "\x1b[31m[red]", Mode.TEXT, LineEnding.NONE)
    app = Host(store_in(tmp_path, message), "")
    async with app.run_test():
        assert table_rows(app) == [["[bold]x[/]", "text none", r"\x1b[31m[red]"]]
