"""A FIN is not a close: a peer that finished sending stays open until we close it.

`printf 'GET /\\r\\n\\r\\n' | ncat 127.0.0.1 PORT` sends its request and half-closes; it still
waits for the answer. The peer must stay listed open ("half-closed (FIN by peer)"), our answer
must reach ncat's stdout, and only our close ends it. Echo keeps its "echo, then finish" manner.
"""

from __future__ import annotations

import socket
import subprocess
from functools import partial
from pathlib import Path

import pytest
import trio

from tests.core.helpers import Setup
from workbench.core.connection import State
from workbench.events import Accepted, Address, Closed, Closer, Error, PeerEof, Received, Sent
from workbench.recording.mock import MockSummary, serve_mock
from workbench.recording.reader import read_recording
from workbench.recording.scripts import server_scripts

pytestmark = pytest.mark.trio

WAIT_SECONDS = 10
HTTP = Path(__file__).parents[2] / "recordings" / "sample-http.jsonl"
REQUEST = b"GET /\r\n\r\n"
ANSWER = b"HTTP/1.0 200 OK\r\n\r\nanswered by hand\n"


async def test_a_half_closed_ncat_stays_open_and_prints_our_answer(
    engine_and_events: Setup,
) -> None:
    """ncat whose stdin ended: its peer stays open after the FIN, our answer reaches ncat's
    stdout, and the connection ends only when we close it (FIN, not reset)."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    process = await trio.lowlevel.open_process(
        ["ncat", "127.0.0.1", str(listener.local.port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.send_all(REQUEST)
        await process.stdin.aclose()  # stdin ends: ncat sends FIN, and keeps reading
        eof = await events.wait_for(lambda e: isinstance(e, PeerEof))
        peer = engine.connections[eof.conn]
        received = b"".join(e.data for e in events.of(eof.conn) if isinstance(e, Received))
        assert received == REQUEST
        # Let everything that could run, run: a peer closed on FIN would be closing now.
        await trio.testing.wait_all_tasks_blocked()
        assert peer.state is State.PEER_DONE and eof.conn in engine.connections
        assert not [e for e in events.of(eof.conn) if isinstance(e, Closed)]

        engine.send(eof.conn, ANSWER)
        await events.wait_for(lambda e: isinstance(e, Sent) and e.conn == eof.conn)
        engine.close(eof.conn)
        printed = b""
        with trio.fail_after(WAIT_SECONDS):
            while chunk := await process.stdout.receive_some():
                printed += chunk
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    assert printed == ANSWER
    closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == eof.conn)
    assert isinstance(closed, Closed) and closed.by is Closer.LOCAL and closed.unread == 0
    sent = next(e for e in events.of(eof.conn) if isinstance(e, Sent))
    assert eof.seq < sent.seq < closed.seq


async def test_echo_still_finishes_after_the_peers_fin(engine_and_events: Setup) -> None:
    """With echo on, a half-closed ncat gets its bytes back, then our FIN: ncat exits."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, echo=True)
    with trio.fail_after(WAIT_SECONDS):
        result = await trio.run_process(
            ["ncat", "127.0.0.1", str(listener.local.port)],
            stdin=REQUEST,
            capture_stdout=True,
            stderr=subprocess.DEVNULL,
        )
    assert result.stdout == REQUEST
    closed = await events.wait_for(lambda e: isinstance(e, Closed))
    assert isinstance(closed, Closed) and closed.by is Closer.PEER


async def test_a_half_open_peer_whose_client_left_ends_as_reset_on_our_next_send(
    engine_and_events: Setup,
) -> None:
    """The client sent FIN then closed its socket: TCP tells us only when we send. Our data
    draws an RST, and the next send ends the peer as reset by peer, with a hint."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    with socket.create_connection(("127.0.0.1", listener.local.port)) as client:
        client.sendall(b"bye")
    accepted = await events.wait_for(lambda e: isinstance(e, Accepted))
    await events.wait_for(lambda e: isinstance(e, PeerEof))
    assert engine.connections[accepted.conn].state is State.PEER_DONE
    conn = accepted.conn
    with trio.fail_after(WAIT_SECONDS):
        for _ in range(100):  # bounded: the RST comes back one loopback round trip later
            if conn not in engine.connections:
                break
            before = len(events.events)
            engine.send(conn, b"anyone there?\n")
            await events.wait_for(
                lambda e: e.conn == conn and e.kind in ("send", "close"), after=before
            )
    closed = await events.wait_for(lambda e: isinstance(e, Closed))
    assert isinstance(closed, Closed) and closed.by is Closer.PEER_RESET
    [error] = [e for e in events.of(accepted.conn) if isinstance(e, Error)]
    assert error.operation == "send" and error.hint


async def test_close_on_eof_remains_available_for_churn(engine_and_events: Setup) -> None:
    """Asked for, close_on_eof still finishes with a client as soon as it finished."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0, close_on_eof=True)
    async with await trio.open_tcp_stream("127.0.0.1", listener.local.port) as stream:
        await stream.send_eof()
        with trio.fail_after(WAIT_SECONDS):
            assert await stream.receive_some() == b""
    closed = await events.wait_for(lambda e: isinstance(e, Closed))
    assert isinstance(closed, Closed) and closed.by is Closer.PEER


async def test_the_mock_answers_a_client_that_half_closed_after_its_request() -> None:
    """`printf REQUEST | ncat` against `workbench mock`: the recorded answer arrives in full
    after the client's FIN, and the mock finishes the conversation (ncat exits)."""
    [script] = server_scripts(read_recording(HTTP).events)
    summary = MockSummary()
    serve = partial(serve_mock, read_recording(HTTP), Address("127.0.0.1", 0), summary=summary)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve)
        with trio.fail_after(WAIT_SECONDS):
            result = await trio.run_process(
                ["ncat", "127.0.0.1", str(port)],
                stdin=script.expected,
                capture_stdout=True,
                stderr=subprocess.DEVNULL,
            )
        nursery.cancel_scope.cancel()
    assert result.stdout == script.sent
    assert summary.clients == 1 and summary.mismatches == []
