"""The engine on real loopback sockets: every event present once, in order, with exact bytes."""

from __future__ import annotations

import hashlib
import os
import socket
import struct

import pytest
import trio

from tests.core.helpers import Setup, payload, receive_exactly, wait_bytes
from workbench.core import BadArgument, Engine, NetworkError
from workbench.events import (
    Accepted,
    Closed,
    Closer,
    Connected,
    Error,
    HalfClosed,
    Listening,
    PeerEof,
    Received,
    Sent,
    Side,
    Stopped,
)

pytestmark = pytest.mark.trio


async def test_three_clients_exchange_both_ways(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    assert listener.local.port != 0
    clients = [await engine.connect("127.0.0.1", listener.local.port) for _ in range(3)]
    accepted = [
        await events.wait_for(lambda e, c=c: isinstance(e, Accepted) and e.remote == c.local)
        for c in clients
    ]
    for number, (client, peer_event) in enumerate(zip(clients, accepted, strict=True)):
        engine.send(client.id, f"hello from client {number}\n".encode())
        engine.send(peer_event.conn, f"welcome {number}\r\n".encode())
        engine.send(client.id, b"\x00\xffbinary")
    for number, (client, peer_event) in enumerate(zip(clients, accepted, strict=True)):
        expected_up = f"hello from client {number}\n".encode() + b"\x00\xffbinary"
        await wait_bytes(events, peer_event.conn, Received, len(expected_up))
        await wait_bytes(events, client.id, Sent, len(expected_up))
        await events.wait_for(lambda e, c=client: e.conn == c.id and e.kind == "recv")
        assert payload(events.of(peer_event.conn), Received) == expected_up
        assert payload(events.of(client.id), Sent) == expected_up
        assert payload(events.of(client.id), Received) == f"welcome {number}\r\n".encode()
    for client in clients:
        engine.close(client.id)
    for peer_event in accepted:
        await events.wait_for(lambda e, p=peer_event: isinstance(e, PeerEof) and e.conn == p.conn)

    seqs = [e.seq for e in events.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "one total order, no repeats"
    assert isinstance(events.events[0], Listening)
    for client in clients:
        kinds = [e.kind for e in events.of(client.id)]
        assert kinds[:2] == ["connecting", "connect"]
        assert kinds[-1] == "close" and kinds.count("close") == 1
        closed = events.of(client.id, "close")[0]
        assert isinstance(closed, Closed) and closed.by is Closer.LOCAL
    for peer_event in accepted:
        assert peer_event.side is Side.PEER
        assert isinstance(peer_event, Accepted) and peer_event.listener == listener.id
        assert peer_event.local == listener.local


async def test_broadcast_reaches_every_peer(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    streams = [await trio.open_tcp_stream("127.0.0.1", listener.local.port) for _ in range(4)]
    for stream in streams:
        await events.wait_for(
            lambda e, s=stream: (
                isinstance(e, Accepted)
                and e.remote is not None
                and e.remote.port == s.socket.getsockname()[1]
            )
        )
    assert engine.broadcast(listener.id, b"to everyone\n") == 4
    for stream in streams:
        assert await receive_exactly(stream, 12) == b"to everyone\n"
        await stream.aclose()


async def test_half_close_keeps_receiving(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, close_on_eof=False)
    client = await engine.connect("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    engine.send(client.id, b"request")
    engine.half_close(client.id)
    await events.wait_for(lambda e: isinstance(e, HalfClosed) and e.conn == client.id)
    await events.wait_for(lambda e: isinstance(e, PeerEof) and e.conn == peer.conn)
    assert payload(events.of(peer.conn), Received) == b"request"

    engine.send(peer.conn, b"response after your EOF")
    engine.half_close(peer.conn)
    closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == client.id)
    assert payload(events.of(client.id), Received) == b"response after your EOF"
    assert isinstance(closed, Closed) and closed.by is Closer.PEER
    peer_closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == peer.conn)
    assert isinstance(peer_closed, Closed) and peer_closed.by is Closer.LOCAL


async def test_peer_reset_is_reported(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    stream = await trio.open_tcp_stream("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.aclose()
    closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == peer.conn)
    assert isinstance(closed, Closed) and closed.by is Closer.PEER_RESET
    error = events.of(peer.conn, "error")[0]
    assert isinstance(error, Error) and "reset" in error.message and "RST" in error.hint


async def test_our_reset_reaches_the_peer(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    client = await engine.connect("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    engine.close(client.id, reset=True)
    ours = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == client.id)
    theirs = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == peer.conn)
    assert isinstance(ours, Closed) and ours.by is Closer.LOCAL_RESET
    assert isinstance(theirs, Closed) and theirs.by is Closer.PEER_RESET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_refused_explains_itself(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    port = free_port()
    with pytest.raises(NetworkError) as caught:
        await engine.connect("127.0.0.1", port)
    error = await events.wait_for(lambda e: isinstance(e, Error))
    assert isinstance(error, Error) and error.operation == "connect"
    assert error.message == f"connection refused by 127.0.0.1:{port}"
    assert error.hint.startswith(f"nothing is listening on 127.0.0.1:{port}")
    assert caught.value.explanation.hint == error.hint
    assert not engine.connections


async def test_address_in_use_suggests_alternatives(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    first = await engine.listen("127.0.0.1", 0)
    with pytest.raises(NetworkError):
        await engine.listen("127.0.0.1", first.local.port)
    error = await events.wait_for(lambda e: isinstance(e, Error))
    assert isinstance(error, Error) and error.side is Side.LISTENER
    assert f"port {first.local.port}" in error.message and "in use" in error.message
    assert "port 0" in error.hint and "49152" in error.hint


async def test_unknown_host(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    with pytest.raises(NetworkError):
        await engine.connect("no-such-host.invalid", 80, connect_timeout=5)
    error = await events.wait_for(lambda e: isinstance(e, Error))
    assert isinstance(error, Error) and "unknown host" in error.message


async def test_connect_timeout() -> None:
    """A listener whose backlog is full drops SYNs, so connecting hangs until our timeout."""
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(0)
        port = stuck.getsockname()[1]
        fillers = []
        try:
            async with Engine() as engine:
                events = engine.hub.subscribe()
                while True:  # fill the accept queue until a connect really hangs
                    try:
                        await engine.connect("127.0.0.1", port, connect_timeout=0.5)
                    except NetworkError as exc:
                        assert "no answer" in exc.explanation.message
                        break
                    fillers.append(port)
                    assert len(fillers) < 10, "the backlog never filled up"
                engine.shutdown()
                events.close()
        finally:
            stuck.close()


@pytest.mark.parametrize(
    ("host", "port", "complaint"),
    [
        ("127.0.0.1", 70000, "out of range"),
        ("127.0.0.1", -1, "not a number"),
        ("127.0.0.1", "http", "not a number"),
        ("", 5000, "host is empty"),
        ("   ", 5000, "host is empty"),
        ("local host", 5000, "spaces"),
    ],
)
async def test_bad_arguments_rejected_before_any_socket(
    engine_and_events: Setup, host: str, port: int | str, complaint: str
) -> None:
    engine, events = engine_and_events
    with pytest.raises(BadArgument, match=complaint):
        await engine.connect(host, port)
    with pytest.raises(BadArgument):
        await engine.listen(host, port if port != 0 else 70000)
    await trio.testing.wait_all_tasks_blocked()
    assert events.events == [] and not engine.connections and not engine.listeners


async def test_large_transfer_arrives_intact(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    blob = os.urandom(32 * 1024 * 1024)
    stream = await trio.open_tcp_stream("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    async with stream:
        await stream.send_all(blob)
        await stream.send_eof()
        await events.wait_for(lambda e: isinstance(e, PeerEof) and e.conn == peer.conn, within=60)
    received = payload(events.of(peer.conn), Received)
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(blob).hexdigest()

    client = await engine.connect("127.0.0.1", listener.local.port)
    back_peer = await events.wait_for(
        lambda e: isinstance(e, Accepted) and e.remote == client.local
    )
    engine.send(client.id, blob)
    engine.half_close(client.id)
    await events.wait_for(lambda e: isinstance(e, PeerEof) and e.conn == back_peer.conn, within=60)
    assert payload(events.of(back_peer.conn), Received) == blob
    assert payload(events.of(client.id), Sent) == blob


async def test_slow_consumer_stops_reading_the_socket() -> None:
    """A lossless consumer that lags makes the engine stop reading: TCP pushes back."""
    async with Engine() as engine:
        lagging = engine.hub.subscribe(buffer=4)
        listener = await engine.listen("127.0.0.1", 0)
        stream = await trio.open_tcp_stream("127.0.0.1", listener.local.port)
        blob = os.urandom(64 * 1024 * 1024)
        with trio.move_on_after(1) as stalled:
            await stream.send_all(blob)
        assert stalled.cancelled_caught, "the sender was never slowed down"
        seen = [await lagging.receive() for _ in range(4)]
        assert [e.kind for e in seen[:2]] == ["listen", "accept"]
        await stream.aclose()
        engine.shutdown()
        lagging.close()


async def test_stop_listening_keeps_peers(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    client = await engine.connect("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    engine.stop(listener.id)
    await events.wait_for(lambda e: isinstance(e, Stopped))
    engine.send(peer.conn, b"still here")
    await events.wait_for(lambda e: isinstance(e, Received) and e.conn == client.id)
    with pytest.raises(NetworkError):
        await engine.connect("127.0.0.1", listener.local.port)
    engine.stop(peer.conn)  # not a listener: ignored
    assert peer.conn in engine.connections


async def test_echo_mode_echoes_then_closes_after_eof(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, echo=True)
    async with await trio.open_tcp_stream("127.0.0.1", listener.local.port) as stream:
        await stream.send_all(b"ping\n")
        assert await receive_exactly(stream, 5) == b"ping\n"
        await stream.send_eof()
        with trio.fail_after(10):
            assert await stream.receive_some(10) == b""
    peer = await events.wait_for(lambda e: isinstance(e, Closed) and e.side is Side.PEER)
    assert isinstance(peer, Closed) and peer.by is Closer.PEER, "the peer ended the conversation"


async def test_ipv6_loopback(engine_and_events: Setup) -> None:
    if not socket.has_ipv6:
        pytest.skip("this machine has no IPv6 stack")
    engine, events = engine_and_events
    try:
        listener = await engine.listen("::1", 0)
    except NetworkError as exc:
        pytest.skip(f"::1 is not configured here: {exc}")
    client = await engine.connect("::1", listener.local.port)
    assert str(client.remote) == f"[::1]:{listener.local.port}"
    engine.send(client.id, b"v6")
    received = await events.wait_for(lambda e: isinstance(e, Received))
    assert isinstance(received, Received) and received.data == b"v6"


async def test_leaving_the_engine_closes_every_socket() -> None:
    async with Engine() as engine:
        listener = await engine.listen("127.0.0.1", 0)
        client = await engine.connect("127.0.0.1", listener.local.port)
        outside = await trio.open_tcp_stream("127.0.0.1", listener.local.port)
        events = engine.hub.subscribe()
    async with events, outside:
        with trio.fail_after(5):
            assert await outside.receive_some(10) == b""
        seen = [e async for e in events]
    closes = [e for e in seen if isinstance(e, Closed)]
    assert {e.conn for e in closes} >= {client.id}
    assert sum(isinstance(e, Stopped) for e in seen) == 1
    assert client.state == "closed"


async def test_event_carries_time_and_addresses(engine_and_events: Setup) -> None:
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    client = await engine.connect("127.0.0.1", listener.local.port)
    connected = await events.wait_for(lambda e: isinstance(e, Connected))
    assert connected.remote == listener.local and connected.local == client.local
    assert connected.wall > 1_600_000_000 and connected.mono > 0
    later = [e for e in events.events if e.seq > connected.seq]
    assert all(e.mono >= connected.mono for e in later)


async def test_peer_that_never_reads_backs_our_sends_off(engine_and_events: Setup) -> None:
    """Sends wait on TCP flow control: the queue shows as ``pending``, and close still works."""
    engine, events = engine_and_events
    with socket.socket() as sleeper:
        sleeper.bind(("127.0.0.1", 0))
        sleeper.listen(1)
        sleeper.setblocking(False)
        client = await engine.connect("127.0.0.1", sleeper.getsockname()[1])
        blob = b"x" * (64 * 1024 * 1024)
        engine.send(client.id, blob)
        stalled = await events.wait_for(
            lambda e: isinstance(e, Sent) and e.conn == client.id and e.pending > 0
        )
        assert isinstance(stalled, Sent)
        sends = [e for e in events.of(client.id, "send") if e.seq <= stalled.seq]
        written = len(payload(sends, Sent))
        assert written + stalled.pending == len(blob), "every byte is either sent or pending"
        await trio.testing.wait_all_tasks_blocked()
        assert 0 < client.pending_bytes < len(blob), "the kernel cannot take 64 MiB unread"
        engine.close(client.id)
        closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == client.id)
        assert isinstance(closed, Closed) and closed.by is Closer.LOCAL
        assert client.pending_bytes == 0
