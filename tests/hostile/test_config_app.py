"""What the user wrote survives through the real app: bad entries, damaged and hostile
settings or messages files never stop it starting and are never lost by a save."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.hostile.config_files import BAD_ENTRY, DEEP, FILE_TEXT, FOREIGN_MEMBER
from tests.ui.helpers import wait_until
from workbench.saved_messages import MessageStore
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.saved_messages import MessagesScreen

pytestmark = pytest.mark.asyncio


def backup_of(folder: Path, name: str) -> Path:
    """The one .broken copy of ``name`` in ``folder``."""
    (backup,) = folder.glob(f"{name}.*.broken")
    return backup


def notices(app: WorkbenchApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_good_messages_show_and_a_save_keeps_the_bad_entry_byte_for_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "messages.json"
    path.write_text(FILE_TEXT, encoding="utf-8")
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        kept = [n for n in notices(app) if "could not be read" in n]
        assert kept == [
            f"2 saved messages could not be read and are kept unchanged in {path}: "
            "unknown key 'n' (keys: name, text, mode, line_ending) at entry 2"
        ]
        await pilot.press("escape", *"PONG", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, MessagesScreen), "the dialog")
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(row)[0]) for row in range(table.row_count)] == [
            "hello",
            "ping",
        ]
        status = app.screen.query_one("#messages-status", Static)
        assert "2 saved messages" in str(status.render())
        await pilot.press("n", *"pong", "enter")
        await wait_until(pilot, lambda: app.messages.get("pong") is not None, "the save")
    text = path.read_text(encoding="utf-8")
    assert BAD_ENTRY in text and FOREIGN_MEMBER in text and "    42,\n" in text
    store = MessageStore(path)
    store.load()
    assert [m.name for m in store.messages] == ["hello", "ping", "pong"]


async def test_deeply_nested_settings_and_messages_are_reported_and_the_app_starts(
    tmp_path: Path,
) -> None:
    for name in ("settings.json", "messages.json"):
        (tmp_path / name).write_text(DEEP, encoding="utf-8")
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        shown = notices(app)
        for name in ("settings.json", "messages.json"):
            assert any(name in n and "nested too deeply" in n for n in shown), shown
        assert app.theme == "workbench-dark" and app.messages.messages == ()
    for name in ("settings.json", "messages.json"):
        assert (tmp_path / name).read_text(encoding="utf-8") == DEEP


async def test_damaged_settings_are_kept_aside_when_a_setting_changes(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"theme": "workbench-light",,}')
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        assert path.read_bytes() == b'{"theme": "workbench-light",,}'  # starting never writes
        app.theme = "workbench-amber"
        await wait_until(pilot, lambda: any("kept as" in n for n in notices(app)), "the note")
    backup = backup_of(tmp_path, "settings.json")
    assert backup.read_bytes() == b'{"theme": "workbench-light",,}'
    assert any(str(backup) in n for n in notices(app))
    again = WorkbenchApp(config=tmp_path)
    async with again.run_test():
        assert again.theme == "workbench-amber"


async def test_wrong_settings_fall_back_to_defaults_with_one_notice(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    text = '{"log_cap": true, "log_payload_mib": 1e400, "recordings_dir": "a\\u0000b"}'
    path.write_text(text, encoding="utf-8")
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        (notice,) = [n for n in notices(app) if "settings.json" in n]
        for name in ("log_cap", "log_payload_mib", "recordings_dir"):
            assert f"bad value for {name}" in notice
        assert app.recordings_dir == Path("recordings")
    assert path.read_text(encoding="utf-8") == text


async def test_a_damaged_messages_file_is_kept_aside_by_the_first_save_and_said(
    tmp_path: Path,
) -> None:
    path = tmp_path / "messages.json"
    path.write_bytes(b'{"messages": [{"name": "lost?"')
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        assert any("not valid JSON" in n for n in notices(app))
        await pilot.press("escape", *"PING", "ctrl+s", "n", *"ping", "enter")
        await wait_until(pilot, lambda: any("kept as" in n for n in notices(app)), "the note")
    backup = backup_of(tmp_path, "messages.json")
    assert backup.read_bytes() == b'{"messages": [{"name": "lost?"'
    store = MessageStore(path)
    assert store.load() is None and [m.name for m in store.messages] == ["ping"]
