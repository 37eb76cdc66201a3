"""The recorder on a real engine: every event reaches the file, stop and disk failure are clean."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.core.helpers import Collector
from workbench.core import Engine
from workbench.events import Accepted, Event, Received, Sent
from workbench.recording import writer as writer_module
from workbench.recording.reader import read_recording
from workbench.recording.recorder import Recorder, RecordingStatus
from workbench.recording.writer import RecordingWriteError, RecordingWriter

pytestmark = pytest.mark.trio

WAIT = 10


def without_mono(events: list[Event]) -> list[Event]:
    return [replace(event, mono=0.0) for event in events]


def received(events: Collector, conn: int) -> bytes:
    return b"".join(e.data for e in events.of(conn) if isinstance(e, Received))


async def exchange(engine: Engine, events: Collector, messages: list[bytes]) -> None:
    """One client per message: it sends, the echo server answers, the client closes."""
    listener = await engine.listen("127.0.0.1", 0, echo=True)
    for message in messages:
        client = await engine.connect("127.0.0.1", listener.local.port)
        engine.send(client.id, message)
        await events.wait_for(lambda _, c=client.id, m=message: received(events, c) == m)
        engine.close(client.id)


async def test_every_event_of_several_connections_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    statuses: list[RecordingStatus] = []
    messages = [b"hello\r\n", b"\x00\x01\xfe\xff" * 100, "caf\u00e9 \u65e5\u672c\n".encode()]
    async with trio.open_nursery() as nursery:
        async with Engine() as engine:
            recorder = Recorder(RecordingWriter.open(path), on_progress=statuses.append)
            nursery.start_soon(recorder.run, engine.hub.subscribe())
            events = Collector(engine.hub.subscribe())
            nursery.start_soon(events.run)
            await exchange(engine, events, messages)
    recording = read_recording(path)
    assert not recording.truncated
    assert without_mono(recording.events) == without_mono(events.events)
    for recorded, seen in zip(recording.events, events.events, strict=True):
        assert recorded.mono == pytest.approx(seen.mono, abs=1e-6)
    sent = [e.data for e in recording.events if isinstance(e, Sent)]
    assert all(message in sent for message in messages)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert statuses[-1] == RecordingStatus(path, len(events.events), path.stat().st_size)


async def test_stop_keeps_what_came_before_and_nothing_after(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    finished = trio.Event()

    async def record(recorder: Recorder, channel: trio.MemoryReceiveChannel[Event]) -> None:
        await recorder.run(channel)
        finished.set()

    async with trio.open_nursery() as nursery:
        async with Engine() as engine:
            recorder = Recorder(RecordingWriter.open(path))
            nursery.start_soon(record, recorder, engine.hub.subscribe())
            events = Collector(engine.hub.subscribe())
            nursery.start_soon(events.run)
            await exchange(engine, events, [b"before stop\n"])
            seen_at_stop = len(events.events)
            recorder.stop()
            with trio.fail_after(WAIT):
                await finished.wait()
            await exchange(engine, events, [b"after stop\n"])
    recorded = read_recording(path).events
    assert len(recorded) >= seen_at_stop
    assert without_mono(recorded) == without_mono(events.events[: len(recorded)])
    assert not any(isinstance(e, Sent) and b"after stop" in e.data for e in recorded)


def failing_after_first_flush(fd_of: Callable[[], int | None]) -> Callable[[int, Any], int]:
    """os.writev that fails with ENOSPC on the recording after its first flush succeeded."""
    real_write = os.writev
    writes = 0

    def write(fd: int, data: Any) -> int:
        nonlocal writes
        if fd != fd_of():
            return real_write(fd, data)
        writes += 1
        if writes > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    return write


async def test_a_failing_disk_stops_recording_but_not_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.jsonl"
    writer = RecordingWriter.open(path)
    monkeypatch.setattr(writer_module.os, "writev", failing_after_first_flush(lambda: writer._fd))
    failures: list[RecordingWriteError] = []
    failed = trio.Event()
    flushed = trio.Event()
    statuses: list[RecordingStatus] = []

    def progress(status: RecordingStatus) -> None:
        statuses.append(status)
        flushed.set()

    def failure(exc: RecordingWriteError) -> None:
        failures.append(exc)
        failed.set()

    async with trio.open_nursery() as nursery:
        async with Engine() as engine:
            # A tiny buffer: a recorder that stopped reading would hold the engine back at once.
            recorder = Recorder(writer, on_progress=progress, on_failure=failure)
            nursery.start_soon(recorder.run, engine.hub.subscribe(2))
            events = Collector(engine.hub.subscribe())
            nursery.start_soon(events.run)
            listener = await engine.listen("127.0.0.1", 0, echo=True)
            with trio.fail_after(WAIT):
                await flushed.wait()
            client = await engine.connect("127.0.0.1", listener.local.port)
            with trio.fail_after(WAIT):
                await failed.wait()
            await events.wait_for(lambda e: isinstance(e, Accepted))
            for number in range(20):
                engine.send(client.id, b"still working %d\n" % number)
            expected = b"".join(b"still working %d\n" % number for number in range(20))
            await events.wait_for(lambda _: received(events, client.id) == expected)
    assert failures[0].errno == errno.ENOSPC
    recording = read_recording(path)
    assert len(recording.events) == statuses[0].events >= 1
    assert without_mono(recording.events) == without_mono(events.events[: len(recording.events)])


async def test_the_final_status_is_reported_even_when_nothing_changed_since_the_last(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """The UI's "recording saved" notice hangs on that last report, after a quiet spell too."""
    seen_finished: list[bool] = []
    recorder = Recorder(
        RecordingWriter.open(tmp_path / "r.wbrec"),
        on_progress=lambda _: seen_finished.append(recorder.finished),
    )
    send, receive = trio.open_memory_channel[Event](10)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(recorder.run, receive)
        await trio.sleep(1)  # quiet: the ticks report the header once, then nothing new
        assert seen_finished == [False]
        recorder.stop()
    assert seen_finished == [False, True]
    send.close()
