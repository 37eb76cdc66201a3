"""Resets and half-closes in every state, and churn: each ends as the right event, nothing leaks."""

from __future__ import annotations

import os
import socket

import pytest
import trio

from tests.core.helpers import Collector, Setup, payload, receive_exactly
from workbench.core import Engine, NetworkError
from workbench.events import Closed, Closer, Connecting, Error, PeerEof, Received, Sent

pytestmark = pytest.mark.trio

CHURN_CYCLES = 10_000
CHURN_CONCURRENCY = 50


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_cancel_while_connecting(engine_and_events: Setup) -> None:
    """A listener with a full backlog drops SYNs; Disconnect must abandon the attempt."""
    engine, events = engine_and_events
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(0)
        port = stuck.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:  # non-blocking: fill the accept queue without waiting on it
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            conn_id = engine.reserve_id()
            async with trio.open_nursery() as nursery:

                async def attempt() -> None:
                    with pytest.raises(NetworkError, match="cancelled"):
                        await engine.connect("127.0.0.1", port, conn_id=conn_id)

                nursery.start_soon(attempt)
                await events.wait_for(lambda e: isinstance(e, Connecting))
                engine.close(conn_id)
            closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == conn_id)
            assert isinstance(closed, Closed) and closed.by is Closer.LOCAL
            assert not [e for e in events.of(conn_id) if isinstance(e, Error)]
        finally:
            for filler in fillers:
                filler.close()


async def test_reset_mid_send(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    with socket.socket() as sleeper:
        sleeper.bind(("127.0.0.1", 0))
        sleeper.listen(1)
        client = await engine.connect("127.0.0.1", sleeper.getsockname()[1])
        accepted, _ = sleeper.accept()
        with accepted:
            engine.send(client.id, b"z" * (32 * 1024 * 1024))
            await events.wait_for(lambda e: isinstance(e, Sent) and e.pending > 0)
            engine.close(client.id, reset=True)
            closed = await events.wait_for(lambda e: isinstance(e, Closed))
            assert isinstance(closed, Closed) and closed.by is Closer.LOCAL_RESET
            with pytest.raises(ConnectionResetError):
                while accepted.recv(1 << 20):
                    pass


async def test_peer_half_close_still_gets_queued_data(engine_and_events: Setup) -> None:
    """Echo: the client says EOF at once, yet every echoed byte arrives before our FIN."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, echo=True)
    message = os.urandom(4 * 1024 * 1024)
    async with await trio.open_tcp_stream("127.0.0.1", listener.local.port) as stream:
        await stream.send_all(message)
        await stream.send_eof()
        assert await receive_exactly(stream, len(message)) == message
        with trio.fail_after(10):
            assert await stream.receive_some(1) == b""
    closed = await events.wait_for(lambda e: isinstance(e, Closed))
    assert isinstance(closed, Closed) and closed.by is Closer.PEER


async def test_answering_a_half_closed_peer_by_hand(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, close_on_eof=False)
    async with await trio.open_tcp_stream("127.0.0.1", listener.local.port) as stream:
        await stream.send_all(b"GET / HTTP/1.0\r\n\r\n")
        await stream.send_eof()
        eof = await events.wait_for(lambda e: isinstance(e, PeerEof))
        engine.send(eof.conn, b"HTTP/1.0 200 OK\r\n\r\n")
        engine.half_close(eof.conn)
        assert await receive_exactly(stream, 19) == b"HTTP/1.0 200 OK\r\n\r\n"
    closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == eof.conn)
    assert isinstance(closed, Closed) and closed.by is Closer.LOCAL


async def test_half_close_mid_receive_keeps_everything_coming(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    blob = os.urandom(8 * 1024 * 1024)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = await engine.connect("127.0.0.1", server.getsockname()[1])
        accepted, _ = server.accept()
        with accepted:
            accepted.setblocking(False)
            engine.half_close(client.id)
            sock = trio.socket.from_stdlib_socket(accepted)
            view = memoryview(blob)
            while view:
                view = view[await sock.send(view) :]
            await events.wait_for(lambda _: len(payload(events.events, Received)) == len(blob))
            assert payload(events.of(client.id), Received) == blob
            sock.shutdown(socket.SHUT_WR)
            closed = await events.wait_for(lambda e: isinstance(e, Closed))
            assert isinstance(closed, Closed) and closed.by is Closer.PEER


async def test_every_task_ends_with_its_connection(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    baseline = len(engine.nursery.child_tasks)
    clients = [await engine.connect("127.0.0.1", listener.local.port) for _ in range(20)]
    await events.wait_for(lambda _: len(engine.connections) == 40)
    for client in clients[::2]:
        engine.close(client.id)
    for client in clients[1::2]:
        engine.close(client.id, reset=True)
    # A client's FIN leaves its peer half-open ("half-closed (FIN by peer)") until we close it too.
    await events.wait_for(lambda _: sum(isinstance(e, Closed) for e in events.events) == 30)
    await events.wait_for(lambda _: sum(isinstance(e, PeerEof) for e in events.events) == 10)
    half_open = [c for c in engine.connections.values() if c.state == "half-closed (FIN by peer)"]
    assert len(half_open) == 10
    for peer in half_open:
        engine.close(peer.id)
    await events.wait_for(lambda _: sum(isinstance(e, Closed) for e in events.events) == 40)
    await trio.testing.wait_all_tasks_blocked()
    assert not engine.connections
    assert len(engine.nursery.child_tasks) == baseline


async def test_churn_leaves_no_fds_tasks_or_memory_behind() -> None:
    async with trio.open_nursery() as nursery, Engine() as engine:
        closes = Collector(engine.hub.subscribe(buffer=4096))
        nursery.start_soon(closes.run)
        # Each client connects and closes (FIN). By default its peer would stay half-open until
        # we close it (it may still want an answer, and TCP cannot tell us that the client's
        # socket is gone until we send to it), so a server facing churn asks to finish with
        # the client: close_on_eof.
        listener = await engine.listen("127.0.0.1", 0, close_on_eof=True)
        address = ("127.0.0.1", listener.local.port)

        async def churn(cycles: int) -> None:
            async def one_by_one(count: int) -> None:
                for _ in range(count):
                    with trio.socket.socket() as sock:
                        await sock.connect(address)

            async with trio.open_nursery() as workers:
                for _ in range(CHURN_CONCURRENCY):
                    workers.start_soon(one_by_one, cycles // CHURN_CONCURRENCY)
            await closes.wait_for(lambda _: not engine.connections, within=60)
            closes.events.clear()

        await churn(500)  # warm-up: allocator arenas and caches settle
        tasks, fds, rss = len(engine.nursery.child_tasks), open_fds(), rss_bytes()
        await churn(CHURN_CYCLES)
        assert len(engine.nursery.child_tasks) == tasks
        assert open_fds() == fds
        growth = rss_bytes() - rss
        assert growth < 20 * 1024 * 1024, f"RSS grew {growth / 1e6:.1f} MB over {CHURN_CYCLES}"
        engine.shutdown()
        nursery.cancel_scope.cancel()
