"""Memory returns after a flood: what the UI holds stays within its caps, whatever a peer sends.

The figures are read from the structures themselves (live payload bytes, the store, the
transcript), not from RSS, which the allocator and the machine make noisy.
"""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import threading

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.helpers import wait_until
from workbench.core.connection import RECV_SIZE
from workbench.events import Received, Sent, Side
from workbench.settings import Settings
from workbench.ui.app import WorkbenchApp
from workbench.ui.event_store import EventStore
from workbench.ui.widgets.client_tab import (
    BATCH_CHARS,
    TRANSCRIPT_CHARS,
    TRANSCRIPT_LINES,
    ClientSession,
    Transcript,
)
from workbench.ui.widgets.event_log import EventLog

MIB = 1 << 20
LOG_CAP = Settings.log_payload_mib * MIB
SLACK = 4 * RECV_SIZE
"""Events the engine or the UI may still hold on their way to the log (a few reads)."""
FLOOD_SECONDS = 60.0


def payload_bytes_alive() -> int:
    """Bytes carried by every send/recv event still alive anywhere in this process."""
    gc.collect()
    return sum(len(o.data) for o in gc.get_objects() if isinstance(o, Received | Sent))


def push(sock: socket.socket, total: int, line: bytes) -> threading.Thread:
    """Send ``total`` bytes (``line`` repeated) from a thread; the app's loop keeps reading."""
    block = line * (MIB // len(line))

    def run() -> None:
        with sock:
            sent = 0
            while sent < total:
                piece = block[: total - sent]
                sock.sendall(piece)
                sent += len(piece)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.asyncio
async def test_a_100_mb_flood_from_a_peer_leaves_no_more_than_the_log_cap_alive() -> None:
    """Before the fix every read of the flood stayed alive (100 MB, and up to 1 GiB more for
    longer floods) although the log keeps 64 MiB: dropped slots still held their events."""
    flood = 100 * MIB
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app._listen("127.0.0.1", "0")
        view = lambda: app.model.listeners.get(app.listener_id or -1)  # noqa: E731
        await wait_until(pilot, lambda: (v := view()) is not None and v.listening, "listening")
        local = view().local  # type: ignore[union-attr]
        assert local is not None
        before = payload_bytes_alive()
        sender = push(socket.create_connection(("127.0.0.1", local.port)), flood, b"\0" * 4096)
        log = app.query_one(EventLog)
        await wait_until(
            pilot, lambda: log.store.bytes_in == flood, "the whole flood", within=FLOOD_SECONDS
        )
        await asyncio.to_thread(sender.join, 10)
        assert log.store.payload_bytes <= LOG_CAP and log.store.dropped > 0
        alive = payload_bytes_alive() - before
        assert alive <= LOG_CAP + SLACK, f"{alive / MIB:.0f} MiB of payload alive"


@pytest.mark.asyncio
async def test_a_flood_into_a_client_tab_keeps_its_transcript_within_its_text_cap() -> None:
    """Long lines: the transcript keeps the newest TRANSCRIPT_CHARS characters at most, and
    the tab says how many lines it did not keep."""
    flood = 32 * MIB
    server = socket.create_server(("127.0.0.1", 0))
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        session = await connect_tab(app, pilot, server.getsockname()[1])
        peer, _ = await asyncio.to_thread(server.accept)
        server.close()
        before = payload_bytes_alive()
        sender = push(peer, flood, b"A" * 600 + b"\n")  # a line shows its first 512 bytes
        log = app.query_one(EventLog)
        await wait_until(
            pilot, lambda: log.store.bytes_in == flood, "the whole flood", within=FLOOD_SECONDS
        )
        await asyncio.to_thread(sender.join, 10)
        transcript = session.query_one(Transcript)
        lines = transcript.lines
        assert 0 < len(lines) <= TRANSCRIPT_LINES
        assert sum(map(len, lines)) == transcript.chars <= TRANSCRIPT_CHARS
        # The last receive may start anywhere in a line (even at its last "A"), so any run of
        # A's is a flood line; the note line stands for lines a burst did not show.
        assert transcript.dropped > 0
        assert re.fullmatch(r"← A+( … \(\+\d+ bytes\))?|  … \(\+.*\)", lines[-1]), lines[-1]
        status = session.query_one(".client-status")
        note = f"newest lines only, {transcript.dropped:,} not kept"
        await wait_until(pilot, lambda: note in str(status.render()), "the note")
        assert payload_bytes_alive() - before <= LOG_CAP + SLACK


@pytest.mark.asyncio
async def test_a_burst_in_one_batch_renders_only_its_newest_lines_and_marks_the_gap() -> None:
    """A batch renders at most BATCH_CHARS of text (escaping control bytes is slow): older
    lines of the burst are skipped, and a note line stands where they were."""
    server = socket.create_server(("127.0.0.1", 0))
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        session = await connect_tab(app, pilot, server.getsockname()[1])
        peer, _ = await asyncio.to_thread(server.accept)
        server.close()
        conn = session.conn_id
        assert conn is not None
        chunk = (b"\x1b" * 600 + b"\n") * 100  # 41 lines of 2 KiB escaped text each
        burst = [
            Received(seq=i, mono=0.0, wall=0.0, conn=conn, side=Side.CLIENT, data=chunk)
            for i in range(200)
        ]
        transcript = session.query_one(Transcript)
        session.add_traffic([*burst, burst[0]])
        lines = transcript.lines
        notes = [line for line in lines if line.endswith("lines not shown (too many at once)")]
        assert len(notes) == 1 and lines[0] == notes[0]
        assert transcript.chars <= BATCH_CHARS + 41 * 2100
        assert transcript.dropped == int(notes[0].split()[1].replace(",", ""))
        assert transcript.dropped + len(lines) - 1 == 201 * 41
        peer.close()


async def connect_tab(app: WorkbenchApp, pilot: Pilot[object], port: int) -> ClientSession:
    await pilot.press("f6")
    session = app.active_session()
    assert session is not None
    session.query_one(".client-port", Input).value = str(port)
    await pilot.press("f8")
    return session


def test_the_event_store_keeps_no_payload_alive_beyond_its_cap() -> None:
    """Dropped events are let go at once, not when their slots are reclaimed (every 4,096)."""
    before = payload_bytes_alive()
    store = EventStore(payload_cap=MIB)
    for seq in range(400):  # 100 MiB in reads of 256 KiB, each its own bytes object
        data = bytes(256 * 1024)
        store.append([Received(seq=seq, mono=0.0, wall=0.0, conn=1, side=Side.PEER, data=data)])
    del data
    assert store.payload_bytes <= MIB and store.dropped == 400 - 4
    assert payload_bytes_alive() - before <= MIB
