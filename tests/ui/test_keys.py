"""Keys reach only the screen on top, every dialog takes typing at once, and F1 lists every key.

Each dialog is opened the way a user opens it and typed into right away: no Tab first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from tests.ui.helpers import wait_until
from workbench.codec import Mode
from workbench.recording.index import index_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.filter import FilterScreen
from workbench.ui.screens.help import HelpScreen, app_bindings, key_label
from workbench.ui.screens.open_recording import OpenRecordingScreen
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.screens.replay import ReplayScreen
from workbench.ui.screens.saved_messages import MessagesScreen
from workbench.ui.screens.send_file import SendFileScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.widgets.client_tab import ClientSession
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.server_pane import ServerPane

pytestmark = pytest.mark.asyncio
SAMPLE = Path(__file__).parents[2] / "recordings" / "sample-echo.jsonl"
LIVE_KEYS = ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "ctrl+r", "ctrl+s", "ctrl+f")


def footer_keys(app: WorkbenchApp) -> set[str]:
    footer = app.screen.query_one(Footer)
    return {key.key for key in footer.query(FooterKey)}


async def test_live_screen_keys_do_nothing_while_watching_and_are_not_offered(
    tmp_path: Path,
) -> None:
    app = WorkbenchApp(watch=index_recording(SAMPLE), recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        live = app.screen_stack[0]
        composer = live.query_one(Composer)
        mode, ending = composer.mode, composer.line_ending
        await pilot.press(*LIVE_KEYS)
        await pilot.pause()
        assert app.screen is screen, "a live-screen key opened something over the recording"
        assert not live.query(ClientSession), "F6 opened a tab on the hidden live screen"
        assert (composer.mode, composer.line_ending) == (mode, ending)
        assert app.listener_id is None, "F5 listened on the hidden live screen"
        assert app.recording.recorder is None, "Ctrl+R started a recording"
        shown = footer_keys(app)
        assert not shown & {"f2", "f5", "f6", "f8", "ctrl+r"}, shown
        assert {"space", "escape"} <= shown  # the watch screen's own keys stay
        titles = {command.title for command in app.get_system_commands(screen)}
        assert "New tab" not in titles and "Mode" not in titles

        await pilot.press("escape")
        assert not isinstance(app.screen, WatchScreen)
        await wait_until(pilot, lambda: "f6" in footer_keys(app), "the live keys back")
        await pilot.press("f2")
        assert composer.mode is not mode
        await pilot.press("f6")
        assert len(live.query(ClientSession)) == 1


@pytest.mark.parametrize("opener", ["f1", "ctrl+s"])
async def test_live_screen_keys_do_nothing_under_a_dialog(opener: str) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.query_one(Composer)
        await pilot.press(opener)
        dialog = app.screen
        assert isinstance(dialog, HelpScreen | MessagesScreen)
        await pilot.press("f2", "f6", "f5")
        assert app.screen is dialog
        assert composer.mode is Mode.TEXT and app.sessions() == [] and app.listener_id is None


async def test_the_filter_dialog_takes_typing_at_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+l", "f")
        assert isinstance(app.screen, FilterScreen)
        await pilot.press("7", "enter")
        assert not isinstance(app.screen, FilterScreen)
        assert app.query_one(EventLog).store.conns == {7}


async def test_the_saved_message_dialog_and_its_name_prompt_take_typing_at_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"hello")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, MessagesScreen)
        await pilot.press("n", *"greet", "enter")  # n reaches the list, the name the prompt
        assert [m.name for m in app.messages.messages] == ["greet"]
        await pilot.press("e")  # the list has the focus back: e loads it into the composer
        assert not isinstance(app.screen, MessagesScreen)
        assert app.query_one(Composer).input.value == "hello"


async def test_the_recording_picker_takes_a_typed_path_at_once(tmp_path: Path) -> None:
    (tmp_path / "newest.jsonl").write_bytes(SAMPLE.read_bytes())
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, OpenRecordingScreen)
        await pilot.press(*str(SAMPLE), "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "the watch screen")
        assert app.screen.recording.path == SAMPLE


async def test_the_recording_picker_walks_its_list_from_the_path_field(tmp_path: Path) -> None:
    import os

    for name, when in (("old.jsonl", 1), ("new.jsonl", 2)):
        (tmp_path / name).write_bytes(SAMPLE.read_bytes())
        os.utime(tmp_path / name, (when, when))
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "the watch screen")
        assert app.screen.recording.path == tmp_path / "old.jsonl"


async def test_the_replay_target_takes_typing_at_once(tmp_path: Path) -> None:
    (tmp_path / "one.jsonl").write_bytes(SAMPLE.read_bytes())
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+t", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay dialog")
        await pilot.press(*"127.0.0.1:9")
        assert app.screen.query_one("#replay-target", Input).value == "127.0.0.1:9"


async def test_the_send_file_dialog_takes_a_typed_path_at_once(tmp_path: Path) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(SendFileScreen("to somewhere", tmp_path))
        await pilot.press(*"abc")
        assert app.screen.query_one("#send-file-path", Input).value == "abc"


async def test_help_scrolls_at_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1", "pagedown")
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.scroll_y > 0


async def test_help_lists_every_binding_of_the_app_and_its_widgets() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        text = screen.text
        for key in ("Ctrl+R", "Ctrl+S", "Ctrl+O", "Ctrl+T", "Ctrl+P", "Ctrl+Q", "F10"):
            assert f"**{key}**" in text, key
        bindings = [*app_bindings(app), *Composer.BINDINGS, *ServerPane.BINDINGS]
        bindings += [*EventLog.BINDINGS, *PayloadScreen.BINDINGS]
        for binding in bindings:
            if not getattr(binding, "system", False):
                key = binding.key if hasattr(binding, "key") else binding[0]
                assert f"**{key_label(key)}**" in text, key
        assert "## Reading the log" in text  # the primer stays
