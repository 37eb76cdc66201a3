"""Recording and replay from the UI: real sockets, real files read back."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from tests.ui.helpers import wait_until
from workbench.events import Received
from workbench.recording.index import index_recording
from workbench.recording.reader import read_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.open_recording import recordings_in
from workbench.ui.screens.replay import ReplayScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.widgets.event_log import EventLog

pytestmark = pytest.mark.asyncio
SAMPLE = Path(__file__).parents[2] / "recordings" / "sample-echo.jsonl"


async def test_record_from_launch_and_stop(tmp_path: Path) -> None:
    target = tmp_path / "session.jsonl"
    app = WorkbenchApp(record=target, recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one(EventLog)
        assert str(log.border_title).startswith("● REC session.jsonl")
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.listener_id in app.model.listeners, "listen")
        await wait_until(pilot, lambda: app.model.listeners[app.listener_id].listening, "up")
        port = app.model.listeners[app.listener_id].local.port  # type: ignore[union-attr]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"keep \x00 this\xff")
        await writer.drain()
        await wait_until(pilot, lambda: log.store.bytes_in == 12, "bytes in the log")
        await pilot.press("ctrl+r")
        assert log.border_title == ""
        writer.close()
        await writer.wait_closed()
        await wait_until(pilot, lambda: bool(app._notifications), "the saved notice")
    recording = read_recording(target)
    assert not recording.truncated
    received = [e for e in recording.events if isinstance(e, Received)]
    assert b"".join(e.data for e in received) == b"keep \x00 this\xff"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_record_toggle_never_overwrites(tmp_path: Path) -> None:
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+r")
        await pilot.press("ctrl+r")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("ctrl+r")
    files = recordings_in(tmp_path)
    assert len(files) == 2 and all(f.name.startswith("session-") for f in files), files


async def test_watch_a_recording_with_pause_step_and_jumps() -> None:
    recording = index_recording(SAMPLE)
    app = WorkbenchApp(watch=recording)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        log = screen.query_one(EventLog)
        await pilot.press("space")  # pause wherever it is
        await pilot.press("ctrl+home")
        assert log.store.total_events == 0
        await pilot.press("n")
        await pilot.press("n")
        assert log.store.total_events == 2 and screen.playback.paused
        await pilot.press("ctrl+end")
        assert log.store.total_events == len(recording.events)
        shown = [log.row_text(r) for r in range(log.store.visible_count)]
        assert any("how are you?\\r\\n" in row for row in shown)
        await pilot.press("ctrl+home", "plus", "plus")
        assert screen.playback.speed == 5.0
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.playback.done, "playback to finish at 5x")
        assert log.store.total_events == len(recording.events)
        await pilot.press("escape")
        assert not isinstance(app.screen, WatchScreen)


async def test_replay_against_a_live_server_from_the_ui() -> None:
    async def uppercase_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data.upper())
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(uppercase_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = ReplayScreen(read_recording(SAMPLE))
            await app.push_screen(screen)
            screen.query_one("#replay-target").focus()
            await pilot.press(*f"127.0.0.1:{port}", "enter")
            await wait_until(pilot, lambda: screen.report is not None, "the replay report")
            text = screen.query_one("#replay-report").text
            assert "differs" in text and "HELLO" in text and "hello" in text
            assert "answered differently" in str(screen.query_one("#replay-status").render())
    finally:
        server.close()
        await server.wait_closed()


async def test_the_picker_opens_the_newest_recording_with_enter(tmp_path: Path) -> None:
    (tmp_path / "old.jsonl").write_bytes(SAMPLE.read_bytes())
    newest = tmp_path / "new.jsonl"
    newest.write_bytes(SAMPLE.read_bytes())
    os.utime(tmp_path / "old.jsonl", (1, 1))
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "the watch screen")
        assert app.screen.recording.path == newest


@pytest.mark.asyncio
async def test_keys_move_through_a_watched_recording_at_once_and_enter_shows_a_payload() -> None:
    """The watch screen's log has focus from the start: ↑ and Enter open the payload view with
    no click or Tab first (they used to reach nothing)."""
    from workbench.ui.screens.payload import PayloadScreen

    app = WorkbenchApp(watch=SAMPLE)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "the watch screen")
        watch = app.screen
        assert isinstance(watch, WatchScreen)
        await wait_until(pilot, lambda: watch.playback.done, "the recording played")
        assert isinstance(app.focused, EventLog)
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PayloadScreen), "the payload view")


@pytest.mark.asyncio
async def test_f_on_a_watched_recording_filters_that_recording_not_the_hidden_live_log() -> None:
    """The filter dialog opened from the watch screen narrows the watched log; the live log
    underneath keeps every event."""
    app = WorkbenchApp(watch=SAMPLE)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "the watch screen")
        watch = app.screen
        assert isinstance(watch, WatchScreen)
        await wait_until(pilot, lambda: watch.playback.done, "the recording played")
        watched = watch.query_one(EventLog).store
        live = app.screen_stack[0].query_one(EventLog).store
        everything = watched.visible_count
        await pilot.press("f", "1", "enter")  # connections: #1 only
        await wait_until(pilot, lambda: app.screen is watch, "the dialog closed")
        assert 0 < watched.visible_count < everything
        assert not live.filtering
