"""Promises of `workbench replay`: bounded in time and memory, and never a match it did not see.

Each test runs the real command in a process of its own against a real server on loopback and
measures how long it took and its peak RSS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

from tests.hostile.replay_support import (
    read_exactly,
    replay_process,
    serving,
    until_closed,
    write_recording,
)
from workbench.core import Engine
from workbench.recording.recorder import Recorder
from workbench.recording.writer import RecordingWriter

pytestmark = pytest.mark.trio

REQUEST = b"GET /thing\n"
BLOCK = b"x" * 65536
RSS_BOUND_MIB = 100  # an interpreter with trio is ~30 MiB; the endless server once took 5.7 GB


def simple_recording(path: Path, answer: bytes) -> Path:
    return write_recording(path, [(0.0, [("send", REQUEST, 0.0), ("recv", answer, 0.01)])])


async def test_replay_against_a_server_that_never_stops_sending_ends_quickly_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """Reading stops once the answer is clearly longer than recorded, and the verdict says so."""
    closed = trio.Event()

    async def endless(stream: trio.SocketStream) -> None:
        await read_exactly(stream, len(REQUEST))
        try:
            while True:
                await stream.send_all(BLOCK)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            closed.set()

    recording = simple_recording(tmp_path / "small.wbrec", b"hello\n")
    async with serving(endless) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--timeout", "20"], within=30
        )
        with trio.fail_after(5):
            await closed.wait()
    print(f"endless server: {run.seconds:.2f} s, peak RSS {run.peak_rss_mib:.0f} MiB")
    assert run.status == 1, run.stdout + run.stderr
    assert "the server sent more than recorded: at least" in run.stdout
    assert "beyond the recorded 6" in run.stdout
    assert "first difference at byte 0" in run.stdout
    assert run.seconds < 10, "ended by the overrun, well before --timeout"
    assert run.peak_rss_mib < RSS_BOUND_MIB


async def test_a_50_mb_answer_that_differs_gives_a_small_diff_at_its_offset_quickly(
    tmp_path: Path,
) -> None:
    """Only a window around the first difference is diffed, and it names the byte offset."""
    lines = [b"line %09d of a long answer\n" % n for n in range(50_000_000 // 28)]
    recorded = b"".join(lines)
    changed_at = len(lines) * 3 // 5
    served = b"".join([*lines[:changed_at], *(line.upper() for line in lines[changed_at:])])
    offset = sum(len(line) for line in lines[:changed_at])
    assert len(served) == len(recorded) > 49_000_000
    chunks = [recorded[i : i + 65536] for i in range(0, len(recorded), 65536)]
    recording = write_recording(
        tmp_path / "big.wbrec",
        [(0.0, [("send", REQUEST, 0.0), *(("recv", chunk, 0.01) for chunk in chunks)])],
    )
    del lines, chunks, recorded

    async def big(stream: trio.SocketStream) -> None:
        await read_exactly(stream, len(REQUEST))
        try:
            await stream.send_all(served)
            await stream.send_eof()
            await until_closed(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async with serving(big) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--speed", "max"], within=60
        )
    print(f"50 MB answer: {run.seconds:.2f} s, peak RSS {run.peak_rss_mib:.0f} MiB")
    assert run.status == 1, run.stdout + run.stderr
    assert f"first difference at byte {offset}" in run.stdout
    assert len(run.stdout.splitlines()) < 230, "a window, not the whole stream"
    assert f"+LINE {changed_at:09d} OF A LONG ANSWER\\n" in run.stdout
    assert run.seconds < 20
    assert run.peak_rss_mib < 160, "the recording is 50 MB, held once; answers are not kept"


async def test_a_long_recorded_gap_before_a_connection_is_bounded_by_timeout(
    tmp_path: Path,
) -> None:
    """--timeout covers recorded pauses too; what it cuts is incomplete (exit 3), not a match."""

    async def echo(stream: trio.SocketStream) -> None:
        try:
            async for chunk in stream:
                await stream.send_all(chunk)
        except trio.BrokenResourceError:
            pass

    recording = write_recording(
        tmp_path / "gap.wbrec",
        [
            (0.0, [("send", b"now\n", 0.0), ("recv", b"now\n", 0.01)]),
            (3600.0, [("send", b"an hour later\n", 0.0), ("recv", b"an hour later\n", 0.01)]),
        ],
    )
    async with serving(echo) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--timeout", "2"], within=20
        )
    assert run.status == 3, run.stdout + run.stderr
    assert ": match (" in run.stdout.splitlines()[2]
    assert "#2 (" in run.stdout and ": incomplete (" in run.stdout
    assert "the --timeout of 2 s ran out before this conversation's recorded start" in run.stdout
    assert "1 match, 0 differs, 1 incomplete, 0 error" in run.stdout
    assert "more than --timeout 2 s" in run.stdout, "said up front"
    assert run.seconds < 8


async def test_a_server_holding_back_the_last_bytes_is_reported_after_idle_not_timeout(
    tmp_path: Path,
) -> None:
    answer = b"0123456789" * 100
    closed = trio.Event()

    async def holds_back(stream: trio.SocketStream) -> None:
        await read_exactly(stream, len(REQUEST))
        await stream.send_all(answer[:-3])
        await until_closed(stream)
        closed.set()

    recording = simple_recording(tmp_path / "held.wbrec", answer)
    async with serving(holds_back) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--timeout", "60", "--idle", "1"],
            within=30,
        )
        with trio.fail_after(5):
            await closed.wait()
    assert run.status == 1, run.stdout + run.stderr
    assert ": differs (" in run.stdout and "received 997 B" in run.stdout
    assert "the server sent nothing more for 1 s with 997 of the 1000 bytes" in run.stdout
    assert "first difference at byte 997" in run.stdout
    assert run.seconds < 10, "after --idle, not after the whole --timeout"


async def test_a_send_cut_off_by_timeout_is_incomplete_never_a_match(tmp_path: Path) -> None:
    """The issue's case: a big recorded send that only partly reached the server."""
    megabyte = bytes(range(256)) * 4096
    recording = write_recording(
        tmp_path / "upload.wbrec",
        [(0.0, [("send", megabyte, 0.0) for _ in range(32)])],
    )
    taken = 0

    async def slow_reader(stream: trio.SocketStream) -> None:
        nonlocal taken
        try:
            while chunk := await stream.receive_some(65536):
                taken += len(chunk)
                await trio.sleep(0.02)
        except trio.BrokenResourceError:
            pass

    async with serving(slow_reader) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--timeout", "2", "--speed", "max"],
            within=20,
        )
    assert run.status == 3, run.stdout + run.stderr
    assert 0 < taken < 32 << 20
    assert ": incomplete (sent " in run.stdout and f"of {32 << 20} B" in run.stdout
    assert "the --timeout of 2 s ran out with" in run.stdout
    assert "0 match, 0 differs, 1 incomplete" in run.stdout
    assert run.seconds < 8


async def test_a_server_that_stops_taking_our_bytes_is_incomplete_after_idle(
    tmp_path: Path,
) -> None:
    megabyte = bytes(range(256)) * 4096
    recording = write_recording(
        tmp_path / "upload.wbrec", [(0.0, [("send", megabyte, 0.0) for _ in range(32)])]
    )

    async def never_reads(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with serving(never_reads) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--idle", "1", "--speed", "max"],
            within=30,
        )
    assert run.status == 3, run.stdout + run.stderr
    assert ": incomplete (sent " in run.stdout
    assert "the server took nothing more for 1 s with" in run.stdout
    assert run.seconds < 10


async def test_a_recording_started_mid_connection_says_why_it_cannot_be_replayed(
    tmp_path: Path,
) -> None:
    """Made the way the app makes one: the recorder subscribes while a connection is open."""

    async def echo(stream: trio.SocketStream) -> None:
        try:
            async for chunk in stream:
                await stream.send_all(chunk)
        except trio.BrokenResourceError:
            pass

    path = tmp_path / "mid.wbrec"
    async with serving(echo) as port, Engine() as engine, trio.open_nursery() as nursery:
        events = engine.hub.subscribe()
        early = await engine.connect("127.0.0.1", port)
        engine.send(early.id, b"before the recording\n")
        with trio.fail_after(5):
            while early.bytes_in < 21:
                await events.receive()
        recorder = Recorder(RecordingWriter.open(path))
        nursery.start_soon(recorder.run, engine.hub.subscribe())
        engine.send(early.id, b"during it\n")
        with trio.fail_after(5):
            while early.bytes_in < 31:
                await events.receive()
        engine.close(early.id)
        await early.finished.wait()
        recorder.stop()
        events.close()
    async with serving(echo) as port:
        run = await replay_process([str(path), "--target", f"127.0.0.1:{port}"], within=20)
    assert run.status == 2
    assert f"conversation #{early.id} started before the recording began" in run.stderr
    assert "its opening is missing" in run.stderr
    assert "holds no conversation" not in run.stderr


async def test_a_slow_endless_sender_cut_by_timeout_is_reported_as_differing(
    tmp_path: Path,
) -> None:
    """Too slow to overrun the margin within --timeout, but already longer than recorded."""

    async def trickle(stream: trio.SocketStream) -> None:
        await read_exactly(stream, len(REQUEST))
        try:
            while True:
                await stream.send_all(b"hello\n" * 50)
                await trio.sleep(0.01)  # the server's pace, not a synchronisation
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    recording = simple_recording(tmp_path / "small.wbrec", b"hello\n")
    async with serving(trickle) as port:
        run = await replay_process(
            [str(recording), "--target", f"127.0.0.1:{port}", "--timeout", "1.5"], within=20
        )
    assert run.status == 1, run.stdout + run.stderr
    assert ": differs (" in run.stdout and "the --timeout of 1.5 s ran out" in run.stdout
    assert "first difference at byte 6" in run.stdout
    assert run.seconds < 6


async def test_help_defines_the_timeouts_and_every_exit_status() -> None:
    done = await trio.run_process(
        [sys.executable, "-m", "workbench", "replay", "--help"], capture_stdout=True
    )
    text = " ".join(done.stdout.decode().split())
    assert "--timeout S is the budget for the whole replay" in text
    assert "--idle S is how long a conversation waits" in text
    for status in ("0 every conversation matched", "1 some conversation differs", "2 error"):
        assert status in text
    assert "3 some conversation is incomplete" in text
