"""Recording a live session: the bridge between the engine's event stream and a file.

The recorder is a lossless subscriber, so the engine waits for it when it falls behind; that is
what makes every event reach the file. The flip side is that a recorder that stops reading
would stall the network, so whenever it stops (asked to, or because the disk failed) it closes
its channel, and the hub drops it on the next event. A disk failure ends the recording, never
the session: it is reported through ``on_failure`` and ``run`` returns normally.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from workbench.events import Event
from workbench.recording.writer import RecordingWriteError, RecordingWriter

TICK_SECONDS = 0.05
"""How often buffered events are handed to the OS when nothing else triggers it."""

PROGRESS_INTERVAL = 0.25
"""Progress is reported at most this often: a status line does not need more."""


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """What is safely on disk so far, for a status line."""

    path: Path
    events: int
    bytes: int


class Recorder:
    """Writes every event of one subscription to a ``RecordingWriter`` and closes it at the end."""

    def __init__(
        self,
        writer: RecordingWriter,
        *,
        on_progress: Callable[[RecordingStatus], None] | None = None,
        on_failure: Callable[[RecordingWriteError], None] | None = None,
    ) -> None:
        self._writer = writer
        self._on_progress = on_progress
        self._on_failure = on_failure
        self._stopping = False
        self._failed = False
        self._waiting: trio.CancelScope | None = None
        self._last_report = -math.inf
        self._reported: RecordingStatus | None = None

    @property
    def status(self) -> RecordingStatus:
        return RecordingStatus(
            self._writer.path, self._writer.events_written, self._writer.bytes_written
        )

    @property
    def finished(self) -> bool:
        """True once the file is closed, so the status reported then is the final one."""
        return self._writer.closed

    def stop(self) -> None:
        """Finish after what the channel already holds; later events are not recorded."""
        self._stopping = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def run(self, channel: trio.MemoryReceiveChannel[Event]) -> None:
        """Record until the channel ends or ``stop()``; never raises for a disk failure."""
        try:
            await self._record(channel)
        except RecordingWriteError as exc:
            self._fail(exc)
        finally:
            channel.close()
            self._finish()

    async def _record(self, channel: trio.MemoryReceiveChannel[Event]) -> None:
        # A deadline rather than a timeout per receive: a steady trickle of events must not
        # keep postponing the flush that bounds what a crash can lose.
        deadline = trio.current_time() + TICK_SECONDS
        while not self._stopping:
            with trio.move_on_at(deadline) as self._waiting:
                try:
                    event = await channel.receive()
                except trio.EndOfChannel:
                    return
                self._writer.write(event)
            self._waiting = None
            if trio.current_time() >= deadline:
                self._tick()
                deadline = trio.current_time() + TICK_SECONDS
        self._drain(channel)

    def _drain(self, channel: trio.MemoryReceiveChannel[Event]) -> None:
        while True:
            try:
                self._writer.write(channel.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                return

    def _tick(self) -> None:
        # flush(), not flush_if_due(): the writer's own interval plus this tick could leave an
        # event unwritten for 150 ms, and an empty buffer makes flush() free.
        self._writer.flush()
        if trio.current_time() - self._last_report >= PROGRESS_INTERVAL:
            self._report()

    def _report(self, *, final: bool = False) -> None:
        """Only a changed status, except the final one: that one says the file is complete."""
        status = self.status
        if self._on_progress is not None and (final or status != self._reported):
            self._on_progress(status)
        self._reported = status
        self._last_report = trio.current_time()

    def _finish(self) -> None:
        if self._failed:
            return
        try:
            self._writer.close()
        except RecordingWriteError as exc:
            self._fail(exc)
            return
        self._report(final=True)

    def _fail(self, exc: RecordingWriteError) -> None:
        self._failed = True
        if self._on_failure is not None:
            self._on_failure(exc)
