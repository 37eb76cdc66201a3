"""Writing a recording while the session happens.

Events are buffered in the process and handed to the OS at least every FLUSH_INTERVAL seconds,
so a crash or ``kill -9`` costs at most the last fraction of a second, while a burst of
thousands of events a second costs one system call per interval instead of one per event.
What has been handed to the OS survives the process; power loss is not guarded against (no
fsync), because a teaching and debugging tool should not stall the event loop on the disk.

The writer is synchronous: each flush is one write of about MAX_BUFFERED bytes at most (plus
one event), small enough to do straight from the event loop.
"""

from __future__ import annotations

import errno
import os
import time
from collections import deque
from contextlib import suppress
from datetime import datetime
from itertools import islice
from pathlib import Path
from time import monotonic
from types import TracebackType
from typing import ClassVar

from workbench.events import Event
from workbench.recording.format import StrPath, encode_event_parts, encode_header, new_header
from workbench.wording import counted

SUFFIX = ".wbrec"
"""New recordings are not pure JSON Lines (their payloads are raw), so they do not claim to be."""

IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024
"""How many pieces one os.writev call may take."""

# O_EXCL: never overwrite; O_BINARY (Windows only): no newline translation.
_CREATE_FLAGS: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


class RecordingWriteError(OSError):
    """Recording had to stop because of the disk; the network session itself goes on.

    ``errno`` is the OS's (ENOSPC, EIO, EACCES, EEXIST...). Callers catch it, tell the user and
    stop recording; every event flushed before it stays on disk and readable.
    """

    def __str__(self) -> str:
        return str(self.strerror)


def default_recording_path(folder: Path, now: datetime | None = None) -> Path:
    """A new file name in ``folder`` named after the local time, never one that exists."""
    stem = f"session-{datetime.now() if now is None else now:%Y%m%d-%H%M%S}"
    candidate = folder / f"{stem}{SUFFIX}"
    suffix = 2
    while os.path.lexists(candidate):  # lexists: O_EXCL refuses dangling symlinks too
        candidate = folder / f"{stem}-{suffix}{SUFFIX}"
        suffix += 1
    return candidate


class RecordingWriter:
    """Appends events to a new recording file.

    Call ``write()`` for every event; it flushes by itself once FLUSH_INTERVAL has passed since
    the last flush or MAX_BUFFERED bytes are waiting. Also call ``flush_if_due()`` from a timer
    (every FLUSH_INTERVAL or so) so that the last events before a quiet spell reach the disk too.
    Any disk failure raises RecordingWriteError and leaves the writer closed.
    """

    FLUSH_INTERVAL: ClassVar[float] = 0.1
    MAX_BUFFERED: ClassVar[int] = 1 << 20

    def __init__(self, path: Path, fd: int, started_mono: float) -> None:
        """Adopt a file descriptor that ``open()`` created; use ``open()`` instead."""
        self.path = path
        self.bytes_written = 0
        self.events_written = 0
        self._fd: int | None = fd
        self._started_mono = started_mono
        self._buffer: list[bytes] = []
        self._buffered_bytes = 0
        self._buffered_events = 0
        self._last_flush = monotonic()

    @classmethod
    def open(
        cls,
        path: StrPath,
        *,
        started_wall: float | None = None,
        started_mono: float | None = None,
    ) -> RecordingWriter:
        """Create the file (owner-only, never over an existing one) and write its header.

        ``started_mono`` is the instant event times are measured from; it defaults to now.
        """
        path = Path(path)
        header = new_header(
            time.time() if started_wall is None else started_wall,
            monotonic() if started_mono is None else started_mono,
        )
        line = _line(encode_header(header))
        fd = _create(path)
        try:
            _write_all(fd, [line])
        except OSError as exc:
            with suppress(OSError):
                os.close(fd)
            with suppress(OSError):
                path.unlink()  # ours (O_EXCL) and useless without its header
            raise _cannot_create(path, exc) from exc
        writer = cls(path, fd, header.started_mono)
        writer.bytes_written = len(line)
        return writer

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, event: Event) -> None:
        """Buffer one event, flushing if it is due; ValueError once the writer is closed."""
        if self._fd is None:
            raise ValueError(f"recording {self.path} is closed")
        self._append(encode_event_parts(event, self._started_mono))
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Flush when the buffer is old or big enough; cheap, so call it from a timer."""
        if self._buffer and (
            monotonic() - self._last_flush >= self.FLUSH_INTERVAL
            or self._buffered_bytes >= self.MAX_BUFFERED
        ):
            self.flush()

    def flush(self) -> None:
        """Hand everything buffered to the OS, where it survives this process dying."""
        if self._fd is None or not self._buffer:
            return
        parts, self._buffer = self._buffer, []
        try:
            _write_all(self._fd, parts)
        except OSError as exc:
            self._abandon()
            raise self._failure(exc) from exc
        self.bytes_written += self._buffered_bytes
        self.events_written += self._buffered_events
        self._buffered_bytes = self._buffered_events = 0
        self._last_flush = monotonic()

    def close(self) -> None:
        """Flush and close; closing again, or after a failure, does nothing."""
        if self._fd is None:
            return
        self.flush()
        fd, self._fd = self._fd, None
        try:
            os.close(fd)
        except OSError as exc:
            raise self._failure(exc) from exc

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _append(self, parts: list[bytes]) -> None:
        self._buffer.extend(parts)
        self._buffered_bytes += sum(map(len, parts))
        self._buffered_events += 1

    def _abandon(self) -> None:
        """Give up the file after a failure; what is on disk already stays readable."""
        fd, self._fd = self._fd, None
        self._buffer.clear()
        self._buffered_bytes = self._buffered_events = 0
        if fd is not None:
            with suppress(OSError):
                os.close(fd)

    def _failure(self, exc: OSError) -> RecordingWriteError:
        reason = exc.strerror or str(exc)
        return RecordingWriteError(
            exc.errno,
            f"recording stopped: cannot write {self.path} ({reason}). The network session is"
            f" unaffected; the {counted(self.events_written, 'event')} saved before this stay"
            " readable.",
        )


def _create(path: Path) -> int:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, _CREATE_FLAGS, 0o600)  # owner-only: recordings can hold secrets
    except OSError as exc:
        raise _cannot_create(path, exc) from exc


def _cannot_create(path: Path, exc: OSError) -> RecordingWriteError:
    if exc.errno == errno.EEXIST:
        reason = f"{exc.filename} already exists, and recordings never overwrite a file"
    else:
        reason = exc.strerror or str(exc)
    return RecordingWriteError(exc.errno, f"cannot create recording {path}: {reason}")


def _line(text: str) -> bytes:
    return text.encode("utf-8") + b"\n"


def _write_all(fd: int, parts: list[bytes]) -> None:
    """Write every part in order with as few system calls and copies as possible.

    os.writev may take only part of the data (signals, pipes, nearly full disks), so what
    it took is dropped from the front and the rest is offered again.
    """
    views = deque(memoryview(part) for part in parts if part)
    while views:
        written = os.writev(fd, list(islice(views, IOV_MAX)))
        while written:
            if written >= len(views[0]):
                written -= len(views.popleft())
            else:
                views[0] = views[0][written:]
                written = 0
