"""Themes, settings and saved messages through the real app, across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.ui.helpers import wait_until
from workbench.codec import LineEnding, Mode
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.composer import Composer

pytestmark = pytest.mark.asyncio


async def test_theme_and_composer_settings_survive_a_restart(tmp_path: Path) -> None:
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        assert app.theme == "workbench-dark"
        app.theme = "workbench-light"
        await pilot.press("f2", "f3")  # escapes, CRLF
        await pilot.pause()
    again = WorkbenchApp(config=tmp_path)
    async with again.run_test() as pilot:
        composer = again.query_one(Composer)
        assert again.theme == "workbench-light"
        assert composer.mode is Mode.ESCAPES and composer.line_ending is LineEnding.CRLF


async def test_theme_flag_applies_to_this_run_only(tmp_path: Path) -> None:
    async with WorkbenchApp(config=tmp_path, theme_name="workbench-amber").run_test() as pilot:
        await pilot.pause()
    async with WorkbenchApp(config=tmp_path).run_test() as pilot:
        assert pilot.app.theme == "workbench-dark"


async def test_corrupt_settings_fall_back_with_a_notice_and_stay_untouched(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text("{not json")
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert any("settings.json" in n.message for n in app._notifications)
        assert app.theme == "workbench-dark"
    assert settings.read_text() == "{not json"


async def test_saved_message_survives_a_restart_and_sends(tmp_path: Path) -> None:
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("escape", *"PING", "ctrl+s", "n", *"ping", "enter")
        await wait_until(pilot, lambda: bool(app.messages.messages), "the saved message")
    stored = json.loads((tmp_path / "messages.json").read_text())
    assert [m["name"] for m in stored["messages"]] == ["ping"]

    again = WorkbenchApp(config=tmp_path)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_until(pilot, lambda: again.model.listeners != {}, "listening")
        await pilot.press("f6")
        session = again.active_session()
        assert session is not None
        port = next(iter(again.model.listeners.values())).local.port  # type: ignore[union-attr]
        session.query_one(".client-port", Input).value = str(port)
        await pilot.press("f8")
        await wait_until(pilot, lambda: session.view is not None and session.view.alive, "up")
        await pilot.press("escape", "ctrl+s", "enter")
        await wait_until(pilot, lambda: session.view.bytes_out == 5, "the saved message sent")


async def test_a_broken_theme_file_is_skipped_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    shipped = Path(__file__).parents[2] / "themes" / "workbench-dark.toml"
    (themes / "workbench-dark.toml").write_text(shipped.read_text())
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    monkeypatch.setattr("workbench.ui.preferences.themes_dir", lambda: themes)
    app = WorkbenchApp(config=tmp_path / "config")
    async with app.run_test() as pilot:
        await pilot.pause()
        notices = " ".join(n.message for n in app._notifications)
        assert "broken.toml" in notices
        assert app.theme == "workbench-dark" and "broken" not in app.available_themes
