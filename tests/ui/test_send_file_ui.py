"""Send a file from the UI: Ctrl+F, pick the file, watch progress to the end, Ctrl+G stops.

Real peers on loopback: socat and ncat writing what they receive to files, compared by hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.helpers import sparse
from tests.ui.helpers import open_tab, start_listening, wait_until
from workbench.core.file_send import CHUNK, CHUNKS_PER_READ, MEMORY_BOUND, FileSend, Outcome
from workbench.ui.app import WorkbenchApp
from workbench.ui.bridge import UI_LAG_BYTES
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.send_file import SendFileScreen, progress_line
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog

pytestmark = pytest.mark.asyncio

MiB = 1 << 20


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


async def socat_to_file(out: Path) -> tuple[asyncio.subprocess.Process, int]:
    socat = await asyncio.create_subprocess_exec(
        "socat", "-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1", f"OPEN:{out},creat",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert socat.stderr is not None
    line = await asyncio.wait_for(socat.stderr.readline(), 10)  # "listening on ...:PORT"
    return socat, int(line.rsplit(b":", 1)[1])


async def choose_file(app: WorkbenchApp, pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+f")
    await wait_until(pilot, lambda: isinstance(app.screen, SendFileScreen), "the file chooser")
    app.screen.query_one("#send-file-path", Input).value = str(path)
    await pilot.press("enter")


async def test_ctrl_f_sends_a_file_to_socat_and_progress_reaches_sent(tmp_path: Path) -> None:
    """The whole file reaches a real socat byte for byte; the composer and the tab show the
    progress line end as "sent", and the log counts exactly the file's bytes as sent."""
    source = make_file(tmp_path / "payload.bin", 3 * MiB + 1)
    received = tmp_path / "received.bin"
    socat, port = await socat_to_file(received)
    try:
        app = WorkbenchApp()
        async with app.run_test(size=(120, 40)) as pilot:
            session = await open_tab(app, pilot, port)
            await choose_file(app, pilot, source)
            await wait_until(pilot, lambda: app.file_sends.jobs != [], "the send to start")
            job = app.file_sends.jobs[-1]
            composer = app.query_one(Composer)
            await wait_until(pilot, lambda: job.outcome is Outcome.DONE, "the send to finish")
            await wait_until(pilot, lambda: "sent 3.0 MiB" in composer.file_progress, "progress")
            assert "payload.bin" in composer.file_progress
            tab_line = str(session.query_one(".client-file", Static).render())
            assert "sent 3.0 MiB" in tab_line
            store = app.query_one(EventLog).store
            await wait_until(pilot, lambda: store.bytes_out == source.stat().st_size, "the log")
            await pilot.press("f9")  # half-close: socat finishes on our FIN
            assert await asyncio.wait_for(socat.wait(), 10) == 0
    finally:
        if socat.returncode is None:
            socat.kill()
            await socat.wait()
    assert digest(received) == digest(source)


async def test_a_file_goes_to_every_peer_when_all_peers_are_the_target(tmp_path: Path) -> None:
    """F4 targets every peer; two ncat clients each write the whole file out."""
    source = make_file(tmp_path / "all.bin", MiB + 3)
    app = WorkbenchApp()
    outs = [tmp_path / f"ncat{i}.bin" for i in range(2)]
    clients: list[asyncio.subprocess.Process] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            port = await start_listening(app, pilot)
            for out in outs:
                with out.open("wb") as sink:
                    clients.append(
                        await asyncio.create_subprocess_exec(
                            "ncat", "--recv-only", "127.0.0.1", str(port), stdout=sink
                        )
                    )
            await wait_until(pilot, lambda: len(app.model.live_peers(app.listener_id)) == 2, "2")
            # Listening made every peer the target (F4 would now toggle that off again).
            assert app.query_one(Composer).target_label == "→ all peers (2)"
            await choose_file(app, pilot, source)
            await wait_until(pilot, lambda: app.file_sends.jobs != [], "the send to start")
            job = app.file_sends.jobs[-1]
            await wait_until(pilot, lambda: job.outcome is Outcome.DONE, "the send to finish")
            assert len(job.conns) == 2
            for conn in job.conns:
                app.bridge.close(conn)
            for client in clients:
                await asyncio.wait_for(client.wait(), 10)
    finally:
        for client in clients:
            if client.returncode is None:
                client.kill()
                await client.wait()
    assert [digest(out) for out in outs] == [digest(source)] * 2


async def test_ctrl_g_stops_a_file_to_a_peer_that_does_not_read(tmp_path: Path) -> None:
    """The send backs up behind a peer that reads nothing; Ctrl+G cancels it, says so, and
    the tab can still send."""
    big = sparse(tmp_path / "big.bin", 64 * MiB)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        app = WorkbenchApp()
        async with app.run_test(size=(120, 40)) as pilot:
            session = await open_tab(app, pilot, server.getsockname()[1])
            await choose_file(app, pilot, big)
            await wait_until(pilot, lambda: app.file_sends.jobs != [], "the send to start")
            job = app.file_sends.jobs[-1]
            composer = app.query_one(Composer)
            await wait_until(pilot, lambda: "pending" in composer.file_progress, "progress")
            assert (
                "Ctrl+G stops" in composer.file_progress and "of 64.0 MiB" in composer.file_progress
            )
            await pilot.press("ctrl+g")
            await wait_until(pilot, lambda: job.outcome is Outcome.CANCELLED, "the cancel")
            await wait_until(pilot, lambda: "cancelled" in composer.file_progress, "the line")
            assert session.view is not None and session.view.alive
            assert app.file_sends.jobs[-1].queued < 8 * MiB


async def test_what_cannot_be_sent_is_explained_in_the_chooser(tmp_path: Path) -> None:
    """A directory (or a FIFO, or a missing path) is refused inline; the chooser stays open."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        app = WorkbenchApp()
        async with app.run_test(size=(120, 40)) as pilot:
            await open_tab(app, pilot, server.getsockname()[1])
            for path, complaint in [
                (tmp_path, "is a directory"),
                (fifo, "FIFO"),
                (tmp_path / "nope", "no such file"),
            ]:
                if not isinstance(app.screen, SendFileScreen):
                    await choose_file(app, pilot, path)
                screen = app.screen
                screen.query_one("#send-file-path", Input).value = str(path)
                await pilot.press("enter")
                error = screen.query_one("#send-file-error", Static)
                shown = lambda c=complaint, e=error: c in str(e.render())  # noqa: E731
                await wait_until(pilot, shown, complaint)
            assert isinstance(app.screen, SendFileScreen)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, SendFileScreen), "closed")
            assert app.file_sends.jobs == []


async def test_ctrl_f_without_a_target_explains_instead(tmp_path: Path) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert not isinstance(app.screen, SendFileScreen)
        error = app.query_one("#composer-error", Static)
        assert "no target" in str(error.render())


async def test_f1_help_documents_send_file() -> None:
    """The keys are in F1 help, and in the command palette by name."""
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.text
        # The palette offers live-screen actions from the live screen (not over a dialog).
        names = {command.title for command in app.get_system_commands(app.screen_stack[0])}
        assert {"Send file", "Stop file send"} <= names
    assert "**Ctrl+F**" in text and "**Ctrl+G**" in text and "Sending a file" in text


async def test_the_screen_paces_a_fast_file_so_its_backlog_stays_bounded(tmp_path: Path) -> None:
    """The engine could outrun the screen by the whole file; it never gets further ahead
    than the pacing bound, so a file of any size costs the app bounded memory."""
    big = sparse(tmp_path / "sparse.bin", 96 * MiB)
    socat = await asyncio.create_subprocess_exec(
        "socat", "-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1", "OPEN:/dev/null",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert socat.stderr is not None
    port = int((await asyncio.wait_for(socat.stderr.readline(), 10)).rsplit(b":", 1)[1])
    lags: list[int] = []
    try:
        app = WorkbenchApp()
        async with app.run_test(size=(120, 40)) as pilot:
            await open_tab(app, pilot, port)
            bridge = app.bridge
            pace = bridge._screen_caught_up

            async def measured_pace(job: FileSend, shown: Callable[[int], int | None]) -> None:
                lags.append(bridge._screen_lag(job, shown))  # in trio, before each chunk
                await pace(job, shown)

            bridge._screen_caught_up = measured_pace  # type: ignore[method-assign]
            await choose_file(app, pilot, big)
            await wait_until(pilot, lambda: app.file_sends.jobs != [], "the send to start")
            job = app.file_sends.jobs[-1]
            await wait_until(pilot, lambda: job.done, "the send to finish", within=60)
            assert job.outcome is Outcome.DONE
    finally:
        if socat.returncode is None:
            socat.kill()
        await socat.wait()
    reads = (96 * MiB) // (CHUNKS_PER_READ * CHUNK)
    assert len(lags) >= reads, "the pacer ran before every read of the file"
    assert max(lags) <= UI_LAG_BYTES + MEMORY_BOUND


async def test_a_send_the_engine_has_not_opened_yet_claims_no_progress(tmp_path: Path) -> None:
    """Before the engine opened the file its size is unknown: the line says so, never
    '0 B of 0 B (100%)'."""
    job = FileSend(tmp_path / "big.bin")
    job.conns = [1]
    line = progress_line(job, 0.0)
    assert "opening the file" in line and "%" not in line
