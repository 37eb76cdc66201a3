"""Send a file (issue 10, C13): streamed from disk, byte for byte, in bounded memory, never a crash.

Every test talks to a real peer on loopback: socat writing to a file, or a plain socket that
reads slowly, resets, or never reads. Waits are bounded polls, never sleeps.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio

from tests.core.helpers import Collector
from tests.helpers import sparse
from workbench.core import BadArgument, Engine
from workbench.core.connection import Connection
from workbench.core.file_send import MEMORY_BOUND, FileSend, Outcome, open_file
from workbench.events import Error, Event, Sent

pytestmark = pytest.mark.trio

WAIT = 20.0
MiB = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
        f.write(os.urandom(size % MiB))
    return path


async def until(condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    """Poll ``condition`` (after letting other tasks run) until it holds or the deadline hits."""
    with trio.move_on_after(within):
        while True:
            if condition():
                return
            await trio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


class SlowPeer:
    """A server socket whose accepted end the test reads when it chooses (or never)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.conn: trio.socket.SocketType | None = None

    async def accept(self) -> trio.socket.SocketType:
        self.server.setblocking(False)
        listener = trio.socket.from_stdlib_socket(self.server)
        with trio.fail_after(WAIT):
            conn, _ = await listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.conn = conn
        return conn

    async def read(self, size: int, *, pause: float = 0.0) -> bytes:
        """Read ``size`` bytes (pausing between reads to play a slow peer)."""
        assert self.conn is not None
        parts, got = [], 0
        with trio.fail_after(WAIT * 3):
            while got < size:
                chunk = await self.conn.recv(min(64 * 1024, size - got))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
                if pause:
                    await trio.sleep(pause)
        return b"".join(parts)

    async def discard(self, size: int) -> int:
        """Read and drop up to ``size`` bytes (holding none); returns how many came, all zero."""
        assert self.conn is not None
        got = 0
        with trio.fail_after(WAIT * 3):
            while got < size:
                chunk = await self.conn.recv(min(256 * 1024, size - got))
                if not chunk:
                    break
                assert not chunk.strip(b"\0")
                got += len(chunk)
        return got

    def close(self, *, reset: bool = False) -> None:
        if self.conn is not None:
            if reset:
                self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.conn.close()
        self.server.close()


@pytest.fixture
async def slow_peer() -> AsyncIterator[SlowPeer]:
    peer = SlowPeer()
    try:
        yield peer
    finally:
        peer.close()


async def connect(engine: Engine, peer: SlowPeer) -> Connection:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(peer.accept)
        conn = await engine.connect("127.0.0.1", peer.port)
    return conn


def sent_bytes(events: list[Event], conn: int) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Sent) and e.conn == conn)


# -- it arrives, byte for byte ---------------------------------------------------------------


async def test_a_multi_megabyte_file_reaches_socat_byte_for_byte(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path
) -> None:
    """A 12 MiB random file sent to socat (writing to a file) arrives with the same hash, and
    the log's Sent events carry exactly the file: the log tells what crossed the wire."""
    engine, events = engine_and_events
    source = random_file(tmp_path / "source.bin", 12 * MiB + 12345)
    received = tmp_path / "received.bin"
    argv = ["socat", "-d", "-d", "-u", "TCP-LISTEN:0,bind=127.0.0.1", f"OPEN:{received},creat"]
    socat = await trio.lowlevel.open_process(argv, stderr=subprocess.PIPE)
    try:
        assert socat.stderr is not None
        said = b""
        with trio.fail_after(WAIT):
            while b"\n" not in said:  # "... listening on AF=2 127.0.0.1:PORT"
                said += await socat.stderr.receive_some(4096)
        port = int(said.split(b"\n")[0].rsplit(b":", 1)[1])
        conn = await engine.connect("127.0.0.1", port)
        job = await engine.send_file(source, [conn.id])
        assert job.outcome is Outcome.DONE, job.message
        assert job.sent == job.size == os.stat(source).st_size and job.pending == 0
        engine.half_close(conn.id)  # socat ends on our FIN
        with trio.fail_after(WAIT):
            assert await socat.wait() == 0
    finally:
        if socat.returncode is None:
            socat.kill()
            await socat.wait()
        if socat.stderr is not None:
            await socat.stderr.aclose()
    assert file_hash(received) == file_hash(source)
    assert sha256(sent_bytes(events.events, conn.id)) == file_hash(source)
    assert conn.id not in engine.file_sends


async def test_a_file_to_every_peer_reaches_each_of_them_whole(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path
) -> None:
    """To every peer of the server: one read per chunk serves them all, paced by the slowest."""
    engine, _ = engine_and_events
    source = random_file(tmp_path / "all.bin", 3 * MiB + 7)
    listener = await engine.listen("127.0.0.1", 0)
    streams = [await trio.open_tcp_stream("127.0.0.1", listener.local.port) for _ in range(3)]
    await until(lambda: len(engine.peers(listener.id)) == 3, "three peers")
    got = [bytearray() for _ in streams]

    async def drain(stream: trio.SocketStream, into: bytearray) -> None:
        while chunk := await stream.receive_some(64 * 1024):
            into += chunk

    async with trio.open_nursery() as nursery:
        for stream, into in zip(streams, got, strict=True):
            nursery.start_soon(drain, stream, into)
        ids = [peer.id for peer in engine.peers(listener.id)]
        job = await engine.send_file(source, ids)
        assert job.outcome is Outcome.DONE and sorted(job.conns) == sorted(ids)
        await until(lambda: all(len(g) == job.size for g in got), "every peer to have it all")
        nursery.cancel_scope.cancel()
    for stream in streams:
        await stream.aclose()
    assert {sha256(bytes(g)) for g in got} == {file_hash(source)}


async def test_an_empty_file_is_sent_at_once(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    engine, _ = engine_and_events
    empty = tmp_path / "empty"
    empty.touch()
    conn = await connect(engine, slow_peer)
    job = await engine.send_file(empty, [conn.id])
    assert job.outcome is Outcome.DONE and job.size == job.sent == 0


# -- memory stays bounded --------------------------------------------------------------------


async def test_a_slow_reader_never_lets_the_outbox_grow_past_the_bound(
    tmp_path: Path, slow_peer: SlowPeer
) -> None:
    """A 256 MiB file to a peer that stalls, then reads slowly: the outbox never holds more
    than ``MEMORY_BOUND`` bytes, and the process does not grow by anything like the file."""
    big = sparse(tmp_path / "big.bin", 256 * MiB)
    worst_pending = 0
    async with trio.open_nursery() as nursery, Engine() as engine:
        subscription = engine.hub.subscribe()

        async def watch_sent() -> None:  # keeps only a number: no event is held
            nonlocal worst_pending
            async for event in subscription:
                if isinstance(event, Sent):
                    worst_pending = max(worst_pending, event.pending)

        nursery.start_soon(watch_sent)
        conn = await connect(engine, slow_peer)
        job = FileSend(big)
        job.conns = [conn.id]
        nursery.start_soon(engine.send_file, job)
        await until(lambda: job.queued > 0, "the first chunk")
        # Stalled: the kernel buffers fill, then the sender must stop reading the file.
        stalled_at = -1
        while stalled_at != job.queued:
            stalled_at = job.queued
            await until(lambda: conn.pending_bytes > 0, "our outbox to back up")
            await trio.sleep(0.05)  # a quiet spell, to see whether reading goes on
        assert conn.pending_bytes <= MEMORY_BOUND
        assert job.queued < 8 * MiB, "stalled peer, yet the file kept being read"
        rss_before = rss_bytes()
        assert len(await slow_peer.read(4 * MiB, pause=0.001)) == 4 * MiB  # slowly
        assert conn.pending_bytes <= MEMORY_BOUND
        assert await slow_peer.discard(job.size - 4 * MiB) == job.size - 4 * MiB
        await until(lambda: job.done, "the file send to finish")
        assert job.outcome is Outcome.DONE
        assert rss_bytes() - rss_before < 64 * MiB
        engine.shutdown()
        nursery.cancel_scope.cancel()
    assert 0 < worst_pending <= MEMORY_BOUND


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- cancelling and stopping -----------------------------------------------------------------


async def start_stalled(
    engine: Engine, peer: SlowPeer, path: Path, nursery: trio.Nursery
) -> tuple[Connection, FileSend]:
    conn = await connect(engine, peer)
    job = FileSend(path)
    job.conns = [conn.id]
    nursery.start_soon(engine.send_file, job)
    await until(lambda: conn.pending_bytes > 0 and job.queued > 0, "the send to back up")
    return conn, job


async def test_cancel_stops_reading_and_the_connection_stays_usable(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    """Cancel: no more of the file is read; what was queued still goes out, then more
    messages can follow on the same connection; the peer gets a prefix of the file, exactly
    the bytes the log shows as sent."""
    engine, events = engine_and_events
    source = random_file(tmp_path / "c.bin", 32 * MiB)
    async with trio.open_nursery() as nursery:
        conn, job = await start_stalled(engine, slow_peer, source, nursery)
        job.cancel()
        await until(lambda: job.done, "the cancel to land")
        assert job.outcome is Outcome.CANCELLED and "reading stopped" in job.message
        queued = job.queued
        assert queued < job.size
        engine.send(conn.id, b"after")
        got = await slow_peer.read(queued + 5)
    assert got == source.read_bytes()[:queued] + b"after"
    await until(lambda: len(sent_bytes(events.events, conn.id)) == queued + 5, "the log")
    assert sent_bytes(events.events, conn.id) == got
    assert conn.accepts_data and conn.id not in engine.file_sends


async def test_a_peer_reset_mid_file_stops_the_send_with_a_message(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    engine, events = engine_and_events
    big = sparse(tmp_path / "sparse.bin", 64 * MiB)
    async with trio.open_nursery() as nursery:
        conn, job = await start_stalled(engine, slow_peer, big, nursery)
        await slow_peer.read(MiB)
        slow_peer.close(reset=True)
        await until(lambda: job.done, "the send to stop")
    assert job.outcome is Outcome.STOPPED
    assert "stopped after" in job.message and f"of {job.size} bytes" in job.message
    assert job.sent < job.size
    closes = [e for e in events.events if e.conn == conn.id and e.kind == "close"]
    assert closes, "the reset is in the log as the connection's close"


async def test_closing_the_connection_stops_the_send(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    engine, _ = engine_and_events
    big = sparse(tmp_path / "sparse.bin", 64 * MiB)
    async with trio.open_nursery() as nursery:
        conn, job = await start_stalled(engine, slow_peer, big, nursery)
        engine.close(conn.id)
        await until(lambda: job.done, "the send to stop")
    assert job.outcome is Outcome.STOPPED and conn.id not in engine.file_sends


async def test_a_file_that_shrinks_while_sent_ends_in_an_error_event(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    """The peer gets fewer bytes than the size we started with: say so, in the log too."""
    engine, events = engine_and_events
    source = random_file(tmp_path / "shrinks.bin", 16 * MiB)
    async with trio.open_nursery() as nursery:
        conn, job = await start_stalled(engine, slow_peer, source, nursery)
        os.truncate(source, 4 * MiB)
        got = await slow_peer.read(4 * MiB)
        await until(lambda: job.done, "the send to fail")
    assert job.outcome is Outcome.FAILED and "shrank" in job.message
    assert len(got) == 4 * MiB and job.queued == 4 * MiB
    errors = [e for e in events.of(conn.id, "error") if isinstance(e, Error)]
    assert errors and errors[0].operation == "send file" and "shrank" in errors[0].message
    assert conn.accepts_data, "the connection itself is fine"


async def test_a_file_that_grows_while_sent_is_sent_up_to_its_first_size(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    """Like ``ncat < file`` would not, we stop at the size we announced, and say it grew."""
    engine, _ = engine_and_events
    source = random_file(tmp_path / "grows.bin", 4 * MiB)
    first = source.read_bytes()
    async with trio.open_nursery() as nursery:
        _, job = await start_stalled(engine, slow_peer, source, nursery)
        with source.open("ab") as more:
            more.write(b"appended later")
        got = await slow_peer.read(4 * MiB)
        await until(lambda: job.done, "the send to finish")
    assert job.outcome is Outcome.DONE and "grew" in job.message
    assert got == first


async def test_a_second_file_to_a_busy_connection_is_refused(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    engine, _ = engine_and_events
    big = sparse(tmp_path / "sparse.bin", 64 * MiB)
    async with trio.open_nursery() as nursery:
        conn, job = await start_stalled(engine, slow_peer, big, nursery)
        with pytest.raises(BadArgument, match="already sending a file"):
            await engine.send_file(big, [conn.id])
        job.cancel()


# -- files that cannot be sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "complaint"),
    [
        (lambda d: d / "missing.bin", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: Path("/dev/zero"), "is a device"),
    ],
    ids=["missing", "directory", "device"],
)
async def test_what_is_not_a_regular_file_is_refused_before_any_byte(
    engine_and_events: tuple[Engine, Collector],
    tmp_path: Path,
    slow_peer: SlowPeer,
    make: Callable[[Path], Path],
    complaint: str,
) -> None:
    engine, events = engine_and_events
    conn = await connect(engine, slow_peer)
    with pytest.raises(BadArgument, match=complaint):
        await engine.send_file(make(tmp_path), [conn.id])
    assert not sent_bytes(events.events, conn.id) and conn.id not in engine.file_sends


async def test_a_fifo_with_no_writer_is_refused_at_once(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path, slow_peer: SlowPeer
) -> None:
    """Opening a FIFO would block until someone writes; we refuse it without waiting."""
    engine, _ = engine_and_events
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    conn = await connect(engine, slow_peer)
    with trio.fail_after(2), pytest.raises(BadArgument, match="FIFO"):
        await engine.send_file(fifo, [conn.id])


async def test_no_live_connection_is_refused(
    engine_and_events: tuple[Engine, Collector], tmp_path: Path
) -> None:
    engine, _ = engine_and_events
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(BadArgument, match="no open connection"):
        await engine.send_file(tmp_path / "f", [12345])


async def test_an_unreadable_file_says_permission_denied() -> None:
    """Checked as a user who may not read the file: root may read anything, so a forked child
    drops to nobody first (in a world-readable folder, so only the file's mode is in the way)."""
    assert "permission denied" in _open_unreadable_file()


def _open_unreadable_file() -> str:
    folder = Path(tempfile.mkdtemp(prefix="workbench-perm-"))
    try:
        folder.chmod(0o755)
        secret = folder / "secret.bin"
        secret.write_bytes(b"x")
        secret.chmod(0o000)
        return _open_as_nobody(secret)
    finally:
        shutil.rmtree(folder)


def _open_as_nobody(path: Path) -> str:
    if os.geteuid() != 0:
        try:
            open_file(path)
        except BadArgument as exc:
            return str(exc)
        return "opened"
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                open_file(path)
                answer = "opened"
            except BadArgument as exc:
                answer = str(exc)
            os.write(write_end, answer.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer_pipe:
        answer = answer_pipe.read().decode()
    os.waitpid(child, 0)
    return answer
