"""Accept errors never take the engine down.

Running out of descriptors is reported and retried; a connection that died in the queue
(ECONNABORTED and friends) is skipped silently; any other accept error is reported and stops
that listener only (with its ``Stopped`` event), while the engine and its peers carry on.
"""

from __future__ import annotations

import errno
import os
import resource
import socket

import pytest
import trio

from tests.core.helpers import Setup
from workbench.core.server import Listener
from workbench.events import Accepted, Error, Received, Sent, Stopped

pytestmark = pytest.mark.trio


async def test_running_out_of_descriptors_is_reported_and_accepting_resumes(
    engine_and_events: Setup,
) -> None:
    """With every descriptor taken, accept fails with EMFILE: an error with a hint, then,
    once descriptors are free again, the waiting client is accepted as usual."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    # The client socket is made before the table fills: connecting needs no new descriptor.
    with socket.socket() as client:
        client.setblocking(False)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
        fillers: list[int] = []
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 16, hard))
        try:
            with pytest.raises(OSError) as full:
                for _ in range(highest + 16):  # bounded by the limit just set
                    fillers.append(os.open(os.devnull, os.O_RDONLY))
            assert full.value.errno == errno.EMFILE
            client.connect_ex(("127.0.0.1", listener.local.port))
            error = await events.wait_for(
                lambda e: isinstance(e, Error) and e.operation == "accept"
            )
            assert isinstance(error, Error) and error.errno == errno.EMFILE and error.hint
        finally:
            for fd in fillers:
                os.close(fd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        accepted = await events.wait_for(lambda e: isinstance(e, Accepted))
        client.send(b"in at last")
        await events.wait_for(lambda e: isinstance(e, Received) and e.conn == accepted.conn)
    assert listener.listening and not [e for e in events.events if isinstance(e, Stopped)]


class FlakyAccept:
    """Wraps a listener's real socket; the next accepts fail with the given errnos."""

    def __init__(self, listener: Listener, *codes: int) -> None:
        self._sock = listener._sock
        self._codes = list(codes)
        listener._sock = self  # type: ignore[assignment]

    async def accept(self) -> tuple[trio.socket.SocketType, object]:
        await trio.lowlevel.checkpoint()
        if self._codes:
            code = self._codes.pop(0)
            raise OSError(code, os.strerror(code))
        return await self._sock.accept()

    def close(self) -> None:
        self._sock.close()


async def test_a_connection_gone_before_accept_is_skipped(engine_and_events: Setup) -> None:
    """ECONNABORTED (the peer reset while queued) is nobody's error: the next client is
    accepted and nothing is reported."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    FlakyAccept(listener, errno.ECONNABORTED, errno.EPROTO)
    with socket.create_connection(("127.0.0.1", listener.local.port)):
        await events.wait_for(lambda e: isinstance(e, Accepted))
    assert not [e for e in events.events if isinstance(e, Error | Stopped)]


async def test_an_unexpected_accept_error_stops_that_listener_only(
    engine_and_events: Setup,
) -> None:
    """An error that would repeat forever (EINVAL) is reported and ends that listener with
    its Stopped event; a peer it accepted earlier and another listener keep working."""
    engine, events = engine_and_events
    broken = await engine.listen("127.0.0.1", 0)
    other = await engine.listen("127.0.0.1", 0)
    with socket.create_connection(("127.0.0.1", broken.local.port)) as early:
        peer = await events.wait_for(lambda e: isinstance(e, Accepted))
        FlakyAccept(broken, errno.EINVAL)
        with socket.create_connection(("127.0.0.1", broken.local.port)):
            stopped = await events.wait_for(lambda e: isinstance(e, Stopped))
        assert stopped.conn == broken.id
        [error] = [e for e in events.of(broken.id) if isinstance(e, Error)]
        assert error.operation == "accept" and error.errno == errno.EINVAL
        engine.send(peer.conn, b"still here")
        await events.wait_for(lambda e: isinstance(e, Sent) and e.conn == peer.conn)
        early.settimeout(5)
        assert early.recv(100) == b"still here"
    with socket.create_connection(("127.0.0.1", other.local.port)):
        await events.wait_for(lambda e: isinstance(e, Accepted) and e.listener == other.id)
