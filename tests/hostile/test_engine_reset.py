"""Say RST when it is one: a close with unread bytes is a reset, and the log says so and why.

The kernel answers close() on a socket whose receive buffer still holds unread bytes with RST,
not FIN. We ask the kernel (FIONREAD) just before closing and report what really went out.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
import trio

from tests.core.helpers import Setup
from workbench.describe import detail
from workbench.events import Accepted, Closed, Closer, Received, Side
from workbench.recording.format import decode_event, encode_event, new_header, parse_line
from workbench.recording.transcript import _describe

pytestmark = pytest.mark.trio

UNREAD = b"data we never read"


def wait_in_kernel(has_arrived: Callable[[], bool], deadline: float = 5.0) -> None:
    """Spin (without yielding to trio, so our reader cannot take the bytes) until they are there."""
    limit = time.monotonic() + deadline
    while not has_arrived():
        assert time.monotonic() < limit, "the bytes never reached our receive buffer"


async def test_closing_with_unread_bytes_is_reported_as_our_reset(engine_and_events: Setup) -> None:
    """The peer's bytes sit unread in our kernel buffer when we close: the peer gets
    ECONNRESET, and Closed says reset by us, with the count and the reason."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    with socket.create_connection(("127.0.0.1", listener.local.port)) as client:
        accepted = await events.wait_for(lambda e: isinstance(e, Accepted))
        peer = engine.connections[accepted.conn]
        await trio.testing.wait_all_tasks_blocked()  # our reader is parked, waiting for data
        client.sendall(UNREAD)
        wait_in_kernel(lambda: peer.unread == len(UNREAD))
        engine.close(peer.id)  # a plain close (FIN asked), before our reader ever runs
        closed = await events.wait_for(lambda e: isinstance(e, Closed))
        assert isinstance(closed, Closed)
        assert closed.by is Closer.LOCAL_RESET and closed.unread == len(UNREAD)
        assert f"{len(UNREAD)} bytes had arrived and were never read" in closed.reason
        assert not [e for e in events.of(peer.id) if isinstance(e, Received)]
        client.settimeout(5)
        with pytest.raises(ConnectionResetError):
            client.recv(100)
    words = f"RST by us — {len(UNREAD)} bytes had arrived and were never read"
    assert _describe(closed, with_payload=False).startswith(f"close  {words}")
    assert detail(closed).startswith(words)


async def test_closing_with_everything_read_is_a_fin(engine_and_events: Setup) -> None:
    """Nothing unread: our close is an orderly FIN, and the peer reads EOF."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    with socket.create_connection(("127.0.0.1", listener.local.port)) as client:
        client.sendall(UNREAD)
        received = await events.wait_for(lambda e: isinstance(e, Received))
        engine.close(received.conn)
        closed = await events.wait_for(lambda e: isinstance(e, Closed))
        assert isinstance(closed, Closed) and (closed.by, closed.unread) == (Closer.LOCAL, 0)
        assert closed.reason == ""
        client.settimeout(5)
        assert client.recv(100) == b""


async def test_the_unread_count_survives_a_recording_and_old_lines_still_read() -> None:
    """Closed.unread round-trips through the format; a close line without it reads as 0."""
    header = new_header(1_700_000_000.0, 100.0)
    closed = Closed(
        seq=7, mono=101.5, wall=1.7e9, conn=3, side=Side.PEER, by=Closer.LOCAL_RESET, unread=18
    )
    line = encode_event(closed, header.started_mono)
    assert decode_event(parse_line(line.encode(), 2), 2, header) == closed
    old = line.replace(', "unread": 18', "")
    assert '"unread"' not in old
    old_event = decode_event(parse_line(old.encode(), 2), 2, header)
    assert isinstance(old_event, Closed) and old_event.unread == 0
