"""A peer cannot crash us: a storm of connect + immediate RST leaves the server serving.

Port scanners connect and reset at once (SO_LINGER 0, then close). The accepted socket is then
dead before we look at it: getpeername fails with ENOTCONN, recv with ECONNRESET. Each such peer
must become events (accepted, then the reset with its hint, then closed by peer-reset), and the
server must go on answering normal clients, in the engine and in the `workbench mock` command.
"""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

from tests.core.helpers import Collector
from workbench.core import Engine
from workbench.events import Accepted, Closed, Closer, Error, Received, Side, Stopped

pytestmark = pytest.mark.trio

ROOT = Path(__file__).parents[2]
HTTP = ROOT / "recordings" / "sample-http.jsonl"
STORM = 1500
WORKERS = 4
WAIT_SECONDS = 30
LINGER_ZERO = struct.pack("ii", 1, 0)


async def rst_storm(port: int, count: int) -> float:
    """``count`` connect + immediate RST from ``WORKERS`` concurrent loops; seconds taken."""

    async def worker(cycles: int) -> None:
        for _ in range(cycles):
            with trio.socket.socket() as sock:
                await sock.connect(("127.0.0.1", port))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)

    started = time.perf_counter()
    with trio.fail_after(WAIT_SECONDS):
        async with trio.open_nursery() as nursery:
            for _ in range(WORKERS):
                nursery.start_soon(worker, count // WORKERS)
    return time.perf_counter() - started


async def echo_once(port: int, message: bytes) -> bytes:
    with trio.fail_after(WAIT_SECONDS):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(message)
            answer = b""
            while len(answer) < len(message):
                chunk = await stream.receive_some()
                assert chunk, "the server closed before answering"
                answer += chunk
    return answer


async def test_a_connect_and_reset_storm_never_stops_the_engine_serving() -> None:
    """1,500 scanners' connect+RST: every accepted one is closed as peer-reset, with a hint,
    the listener keeps listening, and a normal client is still echoed afterwards."""
    async with trio.open_nursery() as nursery, Engine() as engine:
        events = Collector(engine.hub.subscribe(buffer=8192))
        nursery.start_soon(events.run)
        listener = await engine.listen("127.0.0.1", 0, echo=True)
        seconds = await rst_storm(listener.local.port, STORM)
        print(f"\nstorm: {STORM} connect+RST in {seconds:.2f}s ({STORM / seconds:.0f}/s)")

        assert await echo_once(listener.local.port, b"still serving\n") == b"still serving\n"
        await events.wait_for(lambda _: not engine.connections, within=WAIT_SECONDS)
        assert listener.listening and listener.id in engine.listeners

        accepted = {e.conn for e in events.events if isinstance(e, Accepted)}
        closes = [e for e in events.events if isinstance(e, Closed) and e.side is Side.PEER]
        assert sorted(e.conn for e in closes) == sorted(accepted), "each accept has one close"
        resets = [e for e in closes if e.by is Closer.PEER_RESET]
        assert len(resets) >= len(closes) - 1 > STORM // 2, "the scanners' peers were reset"
        for reset in resets:
            [error] = [e for e in events.of(reset.conn) if isinstance(e, Error)]
            assert error.seq < reset.seq and "reset" in error.message and error.hint
        assert not [e for e in events.of(listener.id) if isinstance(e, Error | Stopped)]
        engine.shutdown()
        nursery.cancel_scope.cancel()


async def test_a_peer_reset_before_we_look_at_it_still_gets_its_addresses() -> None:
    """The reset lands before accept; the events still name the peer (accept() told us)."""
    async with trio.open_nursery() as nursery, Engine() as engine:
        events = Collector(engine.hub.subscribe())
        nursery.start_soon(events.run)
        with socket.socket() as raw:  # first, plainly: what crashed the engine
            raw.bind(("127.0.0.1", 0))
            raw.listen(8)
            with socket.create_connection(raw.getsockname()) as scanner:
                scanner.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
            accepted, _ = raw.accept()
            with accepted, pytest.raises(OSError):
                accepted.getpeername()  # ENOTCONN: the socket died before we looked
        # The same through the engine: a listener whose queue holds a dead peer.
        listener = await engine.listen("127.0.0.1", 0)
        with socket.create_connection(("127.0.0.1", listener.local.port)) as scanner:
            scanner.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
            address = scanner.getsockname()
        closed = await events.wait_for(lambda e: isinstance(e, Closed) and e.side is Side.PEER)
        accept = next(e for e in events.events if isinstance(e, Accepted))
        assert accept.remote is not None and accept.remote.port == address[1]
        assert isinstance(closed, Closed) and closed.by in (Closer.PEER_RESET, Closer.PEER)
        assert not [e for e in events.events if isinstance(e, Received)]
        engine.shutdown()
        nursery.cancel_scope.cancel()


async def test_the_mock_command_survives_a_connect_and_reset_storm() -> None:
    """`workbench mock` under 1,500 connect+RST still answers a real client, then stops cleanly
    on Ctrl+C with no traceback."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "workbench", "mock", str(HTTP)] + ["--listen", "127.0.0.1:0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output: list[bytes] = []
    errors: list[bytes] = []
    try:
        assert process.stdout is not None and process.stderr is not None
        with trio.fail_after(WAIT_SECONDS):
            while b"\n" not in b"".join(output):
                chunk = await process.stdout.receive_some()
                assert chunk, b"".join(output)
                output.append(bytes(chunk))
        port = int(b"".join(output).split(b"\n")[0].decode().rsplit(":", 1)[1])
        async with trio.open_nursery() as nursery:

            async def drain(stream: trio.abc.ReceiveStream, into: list[bytes]) -> None:
                while chunk := await stream.receive_some():  # a full pipe would stall the mock
                    into.append(bytes(chunk))

            nursery.start_soon(drain, process.stdout, output)
            nursery.start_soon(drain, process.stderr, errors)
            seconds = await rst_storm(port, STORM)
            print(f"\nmock storm: {STORM} connect+RST in {seconds:.2f}s ({STORM / seconds:.0f}/s)")

            request = b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
            with trio.fail_after(WAIT_SECONDS):
                async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
                    await stream.send_all(request)
                    answer = b""
                    while chunk := await stream.receive_some():
                        answer += chunk
            assert answer.startswith(b"HTTP/"), answer[:80]
            assert process.returncode is None, "the mock died during the storm"
            process.send_signal(signal.SIGINT)
            with trio.fail_after(WAIT_SECONDS):
                assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    assert b"Traceback" not in b"".join(errors), b"".join(errors)[-2000:]
    assert b"mock server stopped:" in b"".join(output)
