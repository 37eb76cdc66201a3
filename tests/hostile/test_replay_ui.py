"""Promises of the replay started from the UI (Ctrl+T): cancellable, bounded, never freezing.

Real servers on loopback (asyncio, in the app's own loop), the real app under the Pilot.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.hostile.replay_support import write_recording
from tests.ui.helpers import wait_until
from workbench.recording.reader import read_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.replay import ReplayScreen

pytestmark = pytest.mark.asyncio
REQUEST = b"GET /slow\n"


class Trickler:
    """Answers one byte every few ms for ever, and notices when the client goes away."""

    def __init__(self, *, endless_block: bytes = b"") -> None:
        self.block = endless_block
        self.sent = 0
        self.closed = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(REQUEST))
        trickle = asyncio.create_task(self._send(writer))
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.closed.set()
        trickle.cancel()
        writer.close()

    async def _send(self, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(self.block or b".")
                await writer.drain()
                self.sent += len(self.block or b".")
                if not self.block:
                    await asyncio.sleep(0.01)  # the server's pace, not a synchronisation
        except ConnectionError:
            pass


async def start_replay(pilot: object, app: WorkbenchApp, screen: ReplayScreen, port: int) -> None:
    await app.push_screen(screen)
    await pilot.pause()  # type: ignore[attr-defined]
    assert app.focused is screen.query_one("#replay-target"), "typing goes to the target"
    await pilot.press(*f"127.0.0.1:{port}", "enter")  # type: ignore[attr-defined]


async def test_escape_cancels_the_ui_replay_and_the_server_sees_the_connection_close(
    tmp_path: Path,
) -> None:
    recording = write_recording(
        tmp_path / "slow.wbrec",
        [(0.0, [("send", REQUEST, 0.0), ("recv", b"." * (1 << 20), 0.1)])],
    )
    server = Trickler()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(recordings_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = ReplayScreen(read_recording(recording))
            await start_replay(pilot, app, screen, port)
            await wait_until(pilot, lambda: server.sent > 5, "the replay to be under way")
            assert screen.running
            await pilot.press("escape")
            await wait_until(pilot, server.closed.is_set, "the server to see the close")
            assert not isinstance(app.screen, ReplayScreen)
            composer = app.query_one("#composer-input", Input)
            composer.focus()
            await pilot.press("h", "i")
            await wait_until(pilot, lambda: composer.value.endswith("hi"), "the app to take keys")
    finally:
        listening.close()
        await listening.wait_closed()


async def test_ctrl_q_quits_promptly_while_a_ui_replay_runs(tmp_path: Path) -> None:
    recording = write_recording(
        tmp_path / "slow.wbrec",
        [(0.0, [("send", REQUEST, 0.0), ("recv", b"." * (1 << 20), 0.1)])],
    )
    server = Trickler()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(recordings_dir=tmp_path)
        async with asyncio.timeout(15):
            async with app.run_test(size=(120, 40)) as pilot:
                screen = ReplayScreen(read_recording(recording))
                await start_replay(pilot, app, screen, port)
                await wait_until(pilot, lambda: server.sent > 5, "the replay to be under way")
                pressed = time.monotonic()
                await pilot.press("ctrl+q")
                await wait_until(pilot, lambda: not app.is_running, "the app to quit")
            quit_seconds = time.monotonic() - pressed
            await asyncio.wait_for(server.closed.wait(), 5)
    finally:
        listening.close()
        await listening.wait_closed()
    print(f"Ctrl+Q during a UI replay: the app was gone after {quit_seconds:.2f} s")
    assert quit_seconds < 3


async def test_a_ui_replay_against_an_endless_server_stops_reading_and_says_so(
    tmp_path: Path,
) -> None:
    recording = write_recording(
        tmp_path / "small.wbrec", [(0.0, [("send", REQUEST, 0.0), ("recv", b"hello\n", 0.1)])]
    )
    server = Trickler(endless_block=b"x" * 65536)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(recordings_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = ReplayScreen(read_recording(recording))
            await start_replay(pilot, app, screen, port)
            await wait_until(pilot, lambda: screen.report is not None, "the replay report")
            text = screen.query_one("#replay-report").text
            assert "the server sent more than recorded: at least" in text
            assert "first difference at byte 0" in text
            assert len(text.splitlines()) < 60
            await wait_until(pilot, server.closed.is_set, "the server to see the close")
            assert server.sent < 64 << 20, "reading stopped long before memory could run out"
    finally:
        listening.close()
        await listening.wait_closed()
