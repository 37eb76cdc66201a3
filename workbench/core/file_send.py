"""Sending a file: streamed from disk to one or more connections, never loaded whole.

How this works:
- ``open_file`` refuses what cannot be sent as a file (missing, a directory, no permission, a
  FIFO, a device or a socket) with a ``BadArgument`` that says why, before any byte is queued.
  Only regular files are streamed: their size is known up front, so progress means something,
  and reading them can neither block forever (a FIFO with no writer) nor never end
  (``/dev/zero``). ``ncat < /dev/zero`` remains the tool for endless streams.
- ``FileSend.run`` reads ``CHUNKS_PER_READ`` chunks of ``CHUNK`` bytes at a time, in a thread,
  and only once every target's outbox is at or below ``LOW_WATER``. So each connection holds at
  most ``MEMORY_BOUND`` bytes of the file in memory, whatever the file's size and however slowly
  the peer reads. With several targets
  (every peer of a server) each chunk, one ``bytes`` object, is queued to all of them, and the
  slowest peer sets the pace; a peer that goes away drops out and the others carry on.
- The bytes leave through the connection's ordinary outbox, so the log, the recording and replay
  see them as ordinary ``Sent`` events, interleaved truthfully with anything else queued meanwhile.
- The size is the one measured at the start. A file that shrinks while being read stops the send
  with an ``Error`` event (the peer got fewer bytes than announced); one that grows is sent up
  to the size it had, with a note. A read error is an ``Error`` event too.
- Progress lives on the ``FileSend`` record (plain numbers the UI reads): ``queued`` bytes read
  and handed to the outbox, ``sent`` bytes the kernel took, ``pending`` the difference.
- ``pace``, when set, is awaited before each read: a consumer that must see every chunk (the
  screen) can hold the file back until it has caught up, so memory stays bounded there too.
- ``cancel()`` stops reading: what is already queued (at most ``MEMORY_BOUND`` per target)
  still goes out, so the connection stays usable and the log shows exactly what crossed the
  wire. Closing the connection stops the send too; its ``Closed`` event tells that story.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from workbench.core.errors import BadArgument
from workbench.events import Error
from workbench.files import NotRegularFile, open_regular

if TYPE_CHECKING:
    from workbench.core.connection import Connection
    from workbench.core.hub import Hub, Origin, Stamp

CHUNK = 256 * 1024
"""Bytes queued as one ``bytes``: the most one kernel write takes (``SEND_CHUNK``), so a chunk
usually goes out whole and its ``Sent`` event needs no copy."""
CHUNKS_PER_READ = 4
"""Chunks read per hop to the reading thread, so the hop costs little per byte."""
LOW_WATER = CHUNKS_PER_READ * CHUNK
"""The next chunk is read only once a target's outbox holds at most this many bytes."""
MEMORY_BOUND = LOW_WATER + CHUNKS_PER_READ * CHUNK
"""Most bytes of the file one target's outbox ever holds."""


def read_chunks(fd: int, offset: int, want: int) -> list[bytes]:
    """Up to ``want`` bytes from ``offset`` as chunks of at most ``CHUNK``; fewer at the end."""
    chunks: list[bytes] = []
    while want > 0:
        chunk = os.pread(fd, min(CHUNK, want), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        want -= len(chunk)
    return chunks


class Outcome(StrEnum):
    """Where a file send is, as the UI shows it."""

    RUNNING = "sending"
    DONE = "sent"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # the connection went away (or we half-closed) before the end
    FAILED = "failed"  # the file itself failed us (read error, shrank)
    REFUSED = "refused"  # never started: the file or the target could not be used


def describe_open_error(path: Path, exc: OSError) -> str:
    """One line a user can act on, for each way opening a file can fail."""
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{path}: is a directory, not a file"
    if isinstance(exc, PermissionError):
        return f"{path}: permission denied (you may not read it)"
    if isinstance(exc, NotADirectoryError):
        return f"{path}: a part of the path is not a folder"
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"{path}: cannot open ({reason})"


def _kind_of(mode: int) -> str:
    """What a file that is not a regular one nor a folder is, and why it cannot be sent."""
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe): only regular files can be sent, with their size known"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device: only regular files can be sent (a device may never end)"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is not a regular file"


def open_file(path: Path) -> tuple[int, int]:
    """Open ``path`` for sending: returns (fd, size) or raises ``BadArgument`` saying why.

    A FIFO with no writer is refused at once instead of hanging (see ``open_regular``).
    """
    try:
        fd, info = open_regular(path)
    except NotRegularFile as exc:
        raise BadArgument(f"{path}: {_kind_of(exc.mode)}") from None
    except OSError as exc:
        raise BadArgument(describe_open_error(path, exc)) from exc
    return fd, info.st_size


class FileSend:
    """One file on its way to one or more connections; the caller keeps it to watch progress.

    Create it, pass it to ``Engine.send_file``, then read ``queued``/``sent``/``outcome``.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.size = 0
        self.conns: list[int] = []
        self.queued = 0
        self.outcome = Outcome.RUNNING
        self.message = ""
        self.started = 0.0
        self.ended: float | None = None
        self.pace: Callable[[], Awaitable[None]] | None = None
        """Awaited before each read, by a consumer that must keep up (see the module notes)."""
        self._targets: list[Connection] = []
        self._hub: Hub | None = None
        self._end_marks: dict[int, int] = {}  # stream position of the last queued file byte
        self._scope = trio.CancelScope()
        self._cancelled = False

    # -- what the UI reads -------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.outcome is not Outcome.RUNNING

    @property
    def opened(self) -> bool:
        """The engine opened the file: ``size`` and the targets are known from now on."""
        return self._hub is not None

    @property
    def sent(self) -> int:
        """File bytes the kernel took (for several targets, on the slowest one still open)."""
        targets = self._live() or self._targets
        if not targets:
            return 0
        return min(self._sent_on(conn) for conn in targets)

    @property
    def pending(self) -> int:
        """File bytes read and queued but not yet taken by the kernel."""
        return self.queued - self.sent

    def rate(self, now: float | None = None) -> float:
        """Bytes per second so far."""
        end = self.ended if self.ended is not None else (now or time.monotonic())
        elapsed = end - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0

    def _sent_on(self, conn: Connection) -> int:
        in_flight = max(0, self._end_marks.get(conn.id, 0) - conn.bytes_out)
        return max(0, min(self.queued, self.queued - in_flight))

    # -- control ------------------------------------------------------------------------------

    def refuse(self, reason: str) -> None:
        """Mark a send that never started (the caller raises ``BadArgument`` with ``reason``)."""
        self._finish(Outcome.REFUSED, reason)

    def cancel(self) -> None:
        """Stop reading the file; what is already queued still goes out."""
        self._cancelled = True
        self._scope.cancel()

    # -- the work -----------------------------------------------------------------------------

    def start(self, hub: Hub, targets: list[Connection]) -> int:
        """Open the file and bind the targets; raises ``BadArgument`` before any byte moves."""
        live = [conn for conn in targets if conn.accepts_data]
        if not live:
            raise BadArgument("nothing to send the file to: no open connection")
        fd, size = open_file(self.path)
        self.size = size
        self.conns = [conn.id for conn in live]
        self._targets = live
        self._hub = hub
        self.started = time.monotonic()
        return fd

    async def run(self, fd: int) -> None:
        """Stream the file; ends with ``outcome`` set and the file closed, whatever happens."""
        try:
            with self._scope:
                await self._stream(fd)
            if self._cancelled and self.outcome is Outcome.RUNNING:
                self._finish(
                    Outcome.CANCELLED,
                    f"reading stopped after {self.queued} of {self.size} bytes;"
                    " what was already queued still goes out",
                )
        finally:
            os.close(fd)
            if self.outcome is Outcome.RUNNING:  # the engine shut down under us
                self._finish(Outcome.STOPPED, "the engine stopped")

    async def _stream(self, fd: int) -> None:
        while self.queued < self.size:
            if self.pace is not None:
                await self.pace()
            if not await self._wait_for_room():
                return
            want = min(CHUNKS_PER_READ * CHUNK, self.size - self.queued)
            try:  # in a thread: a slow disk or network share must not freeze the screen
                chunks = await trio.to_thread.run_sync(read_chunks, fd, self.queued, want)
            except OSError as exc:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                await self._fail(f"reading {self.path} failed after {self.queued} bytes: {reason}")
                return
            if not chunks:
                await self._fail(
                    f"{self.path} shrank while being sent: it had {self.size} bytes,"
                    f" it ended after {self.queued}"
                )
                return
            for chunk in chunks:
                self._queue(chunk)
        await self._wait_delivered()
        if self.outcome is Outcome.RUNNING:
            self._finish(Outcome.DONE, self._growth_note(fd))

    async def _wait_for_room(self) -> bool:
        """Wait until every live target can take another chunk; False when none is left."""
        for conn in list(self._targets):
            await conn.wait_outbox_below(LOW_WATER)
        if not self._live():
            self._finish(Outcome.STOPPED, self._stopped_message())
            return False
        return True

    def _queue(self, chunk: bytes) -> None:
        for conn in self._live():
            conn.send(chunk)
            self._end_marks[conn.id] = conn.bytes_out + conn.pending_bytes
        self.queued += len(chunk)

    async def _wait_delivered(self) -> None:
        """The file counts as sent once the kernel took its last byte on every live target."""
        for conn in self._live():
            mark = self._end_marks.get(conn.id, 0)
            while conn.bytes_out < mark and conn.accepts_data:
                await conn.wait_outbox_below(conn.pending_bytes - 1)
        if not self._live() and self.size:
            self._finish(Outcome.STOPPED, self._stopped_message())

    def _live(self) -> list[Connection]:
        return [conn for conn in self._targets if conn.accepts_data]

    def _stopped_message(self) -> str:
        return (
            f"stopped after {self.sent} of {self.size} bytes:"
            " the connection closed or stopped sending"
        )

    def _growth_note(self, fd: int) -> str:
        try:
            now = os.fstat(fd).st_size
        except OSError:
            return ""
        if now > self.size:
            return f"the file grew while being sent: its first {self.size} bytes were sent"
        return ""

    async def _fail(self, message: str) -> None:
        self._finish(Outcome.FAILED, message)
        if self._hub is None:
            return
        for conn in self._targets:  # the log and the recording say why the bytes stopped
            await self._hub.emit(partial(_send_failed, conn.origin, message))

    def _finish(self, outcome: Outcome, message: str) -> None:
        if self.outcome is Outcome.RUNNING:
            self.outcome, self.message = outcome, message
            self.ended = time.monotonic()


FAILED_HINT = (
    "the peer received only the bytes logged as sent; the connection stays open."
    " A file being written while it is sent is best copied first."
)


def _send_failed(origin: Origin, message: str, at: Stamp) -> Error:
    """The event telling one target's log and recording why the file's bytes stopped."""
    return Error(
        **at, **origin, operation="send file", errno=None, message=message, hint=FAILED_HINT
    )
