"""An index of a recording: every event for the list, big payloads left in the file.

Watching a recording needs each event's time, kind, connection and addresses, but of a payload
only its size and the few bytes a row can show. The index reads the file once with the
recording reader itself (the same checks, warnings and line numbers), whose payload sink here
keeps the first EXCERPT_BYTES of a longer payload as an ``Excerpt``: those bytes, the whole
size, and where the payload lies in the file. So a 1 GiB recording of big payloads indexes
into a few kilobytes, and its events (``rows``) are ordinary events a log can show.

Reading the rest of a payload (the payload view, a replay) goes back to the file, one bounded
piece at a time, with ``os.pread``: threads may read at once, and nothing depends on where the
file's position is. The index holds its file open until ``close``, which whoever watches it
calls when done; reading a closed index is a RecordingError, never another file's bytes.

Indexing runs in a worker thread: ``Indexing`` carries its progress (bytes and events so far)
to whoever shows it, and ``cancel`` stops it within one piece of work (a line, or a MiB).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, overload

from workbench.events import Event, Received, Sent
from workbench.recording.format import RecordingError, StrPath
from workbench.recording.reader import (
    _INLINE_KEY,
    PAYLOAD_PIECE,
    PayloadSink,
    Recording,
    RecordingReader,
)

EXCERPT_BYTES = 256
"""Payload bytes an index keeps per event: more than a row of the log can show. A payload no
longer than this is kept whole, so most small events need no file read at all."""

PROGRESS_EVERY = 0.05
"""Seconds between updates of ``Indexing.done``: asking the file where it is costs a call."""

_BASE64_PIECE = PAYLOAD_PIECE // 3 * 4  # whole quads: base64 decodes 4 characters to 3 bytes


class Excerpt(bytes):
    """The first EXCERPT_BYTES of a payload that was left in its file.

    ``size`` is the whole payload's length; ``offset`` is where it starts in the file, as raw
    bytes or, when ``inline``, as base64 text. ``RecordingIndex.read`` reads the rest.
    """

    size: int
    offset: int
    inline: bool

    def __new__(cls, head: bytes, *, size: int, offset: int, inline: bool) -> Excerpt:
        excerpt = super().__new__(cls, head)
        excerpt.size, excerpt.offset, excerpt.inline = size, offset, inline
        return excerpt

    def __repr__(self) -> str:
        return f"Excerpt({bytes(self)!r}, size={self.size}, offset={self.offset})"


def payload_size(data: bytes) -> int:
    """The whole length of a payload, of which ``data`` may be only an Excerpt."""
    return data.size if isinstance(data, Excerpt) else len(data)


class IndexCancelled(Exception):
    """Indexing stopped because nobody wants the index any more."""


class _Head:
    """A payload sink that keeps the first EXCERPT_BYTES and counts the rest."""

    def __init__(self, offset: int, inline: bool) -> None:
        self._offset, self._inline = offset, inline
        self._head = b""
        self._size = 0

    def add(self, piece: bytes) -> None:
        if len(self._head) < EXCERPT_BYTES:
            self._head += piece[: EXCERPT_BYTES - len(self._head)]
        self._size += len(piece)

    def value(self) -> bytes:
        if self._size <= EXCERPT_BYTES:
            return self._head
        return Excerpt(self._head, size=self._size, offset=self._offset, inline=self._inline)


class _Indexer(RecordingReader):
    """The recording reader with payloads left in the file, reporting to an ``Indexing``."""

    def __init__(self, path: StrPath, indexing: Indexing) -> None:
        self._indexing = indexing
        self._reported = 0.0
        self._shared: dict[object, object] = {}
        super().__init__(path)
        indexing.total = self._file_size(1)

    @property
    def file(self) -> BinaryIO:
        return self._file

    def _sink(self, offset: int, *, inline: bool) -> PayloadSink:
        return _Head(offset, inline)

    def _report(self) -> None:
        if self._indexing.cancelled:
            raise IndexCancelled
        now = time.monotonic()
        if now - self._reported >= PROGRESS_EVERY:
            self._reported = now
            self._indexing.done = self._tell(0)

    def _decode(self, raw: bytes, line_no: int) -> tuple[Event | None, int]:
        event, next_line = super()._decode(raw, line_no)
        if event is None:
            return None, next_line
        if isinstance(event, Sent | Received) and type(event.data) is bytes:
            if len(event.data) > EXCERPT_BYTES:
                event = self._left_inline(event, raw, line_no)
        self._share(event)
        return event, next_line

    def _share(self, event: Event) -> None:
        """One object per distinct address and connection id, instead of one per event: the
        index of 245,000 small events is half the size.

        The event was made a moment ago and nobody else holds it, so its frozen fields are
        set in place, as the dataclass's own ``__init__`` does (``replace`` costs 20 times
        more).
        """
        shared = self._shared
        for name in ("local", "remote", "conn"):
            value = getattr(event, name)
            object.__setattr__(event, name, shared.setdefault(value, value))

    def _left_inline(self, event: Sent | Received, line: bytes, line_no: int) -> Event:
        """An inline payload on a line short enough to be parsed whole: left in the file too.

        Only when the line spells the payload as plain base64 after a plain key, as our
        writer does; anything else (escaped characters) stays whole, and is under a MiB.
        """
        found = _INLINE_KEY.search(line)
        if found is None:
            return event
        text = line[found.end() : line.find(b'"', found.end())]
        if text != base64.b64encode(event.data):
            return event
        offset = self._tell(line_no) - len(line) + found.end()  # the line was read, no more
        head = event.data[:EXCERPT_BYTES]
        excerpt = Excerpt(head, size=len(event.data), offset=offset, inline=True)
        return replace(event, data=excerpt)


class RecordingIndex:
    """A recording's events with their big payloads left in the file, and that file.

    ``rows`` are the events as a list shows them (payloads over EXCERPT_BYTES cut to an
    Excerpt); ``read`` gives any part of a payload, ``whole`` the recording with every
    payload read back when its event is asked for. ``close`` when done.
    """

    def __init__(self, recording: Recording, file: BinaryIO | None) -> None:
        self.path = recording.path
        self.header = recording.header
        self.truncated = recording.truncated
        self.warning = recording.warning
        self.rows: Sequence[Event] = recording.events
        self._file = file
        self._lock = threading.Lock()  # a read never meets a closed (or reused) descriptor

    @classmethod
    def of(cls, recording: Recording) -> RecordingIndex:
        """An index over a recording already in memory (tests, tools): its payloads are all
        there, so it reads nothing from a file and has nothing to close."""
        return cls(recording, None)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def closed(self) -> bool:
        return self._file is None

    def close(self) -> None:
        with self._lock:
            file, self._file = self._file, None
        if file is not None:
            file.close()

    def __enter__(self) -> RecordingIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def events(self) -> Sequence[Event]:
        """Every event with its whole payload, read from the file when it is asked for."""
        return _WholeEvents(self)

    def whole(self) -> Recording:
        """The recording as ``read_recording`` gives it, but its payloads read on demand."""
        return Recording(self.path, self.header, self.events, self.truncated, self.warning)

    def whole_event(self, event: Event) -> Event:
        """``event`` (one of ``rows``) with its whole payload."""
        if isinstance(event, Sent | Received) and isinstance(event.data, Excerpt):
            return replace(event, data=self.read(event.data))
        return event

    def read(self, data: bytes, start: int = 0, length: int | None = None) -> bytes:
        """Bytes ``start`` to ``start + length`` of the payload ``data`` stands for (to its
        end without a length), from memory when ``data`` holds them, else from the file."""
        size = payload_size(data)
        start = min(max(start, 0), size)
        end = size if length is None else min(size, start + max(length, 0))
        if not isinstance(data, Excerpt) or end <= len(data):
            return bytes(data[start:end])
        if data.inline:
            return self._read_base64(data.offset, start, end)
        return self._read_at(data.offset + start, end - start)

    def _read_base64(self, offset: int, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` of base64 text at ``offset``: 4 characters per 3 bytes."""
        first, last = start // 3, -(-end // 3)  # the quads holding those bytes
        pieces = []
        for quad in range(first, last, _BASE64_PIECE // 4):
            count = min(_BASE64_PIECE // 4, last - quad)
            text = self._read_at(offset + quad * 4, count * 4)
            try:
                pieces.append(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                raise self._changed() from None
        skip = start - first * 3
        return b"".join(pieces)[skip : skip + end - start]

    def _read_at(self, offset: int, size: int) -> bytes:
        pieces = []
        while size > 0:
            with self._lock:
                if self._file is None:
                    raise RecordingError("the recording was closed", path=self.path)
                try:
                    piece = os.pread(self._file.fileno(), min(size, PAYLOAD_PIECE), offset)
                except OSError as exc:
                    reason = f"cannot read ({exc.strerror or exc})"
                    raise RecordingError(reason, path=self.path) from None
            if not piece:
                raise self._changed()
            pieces.append(piece)
            offset += len(piece)
            size -= len(piece)
        return b"".join(pieces)

    def _changed(self) -> RecordingError:
        reason = "the file changed since it was opened: open it again to watch it"
        return RecordingError(reason, path=self.path)


class _WholeEvents(Sequence[Event]):
    """An index's events with whole payloads, each read from the file when asked for."""

    def __init__(self, index: RecordingIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index.rows)

    @overload
    def __getitem__(self, item: int) -> Event: ...
    @overload
    def __getitem__(self, item: slice) -> Sequence[Event]: ...
    def __getitem__(self, item: int | slice) -> Event | Sequence[Event]:
        if isinstance(item, slice):
            return [self._index.whole_event(event) for event in self._index.rows[item]]
        return self._index.whole_event(self._index.rows[item])


class Indexing:
    """One indexing of ``path``: ``run`` in a worker thread, watched from another.

    ``done`` of ``total`` bytes and ``events`` tell how far it got. ``cancel`` stops it; an
    index it finished that nobody has ``take``-n yet is closed then, so none is left open.
    """

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self.total = 0
        self.done = 0
        self._rows: list[Event] = []
        self._lock = threading.Lock()
        self._cancelled = False
        self._index: RecordingIndex | None = None

    @property
    def events(self) -> int:
        return len(self._rows)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def run(self) -> None:
        """Index the file; RecordingError says why it cannot be, IndexCancelled if cancelled."""
        reader = _Indexer(self.path, self)
        try:
            self._rows.extend(reader)
        except BaseException:
            reader.close()
            raise
        found = Recording(reader.path, reader.header, self._rows, reader.truncated, reader.warning)
        index = RecordingIndex(found, reader.file)
        self.done = self.total
        with self._lock:
            if not self._cancelled:
                self._index = index
                return
        index.close()
        raise IndexCancelled

    def take(self) -> RecordingIndex | None:
        """The finished index, now the caller's to close (None if cancelled or not done)."""
        with self._lock:
            index, self._index = self._index, None
        return index

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            index, self._index = self._index, None
        if index is not None:
            index.close()


def index_recording(path: StrPath) -> RecordingIndex:
    """Index a recording in this thread, for tests and tools that need no progress."""
    indexing = Indexing(path)
    indexing.run()
    index = indexing.take()
    assert index is not None  # nobody else could cancel it
    return index
