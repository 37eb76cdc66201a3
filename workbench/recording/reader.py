"""Reading recordings back, including the ones a crash cut short.

A recording is written while the session runs, so the most likely damage is a last event that a
crash or kill interrupted, in its line or in the raw payload after it. That loses one event, not
the recording: readers keep everything before it and say so. Damage anywhere else means the
file is not what we wrote, and is an error naming the line. Whatever the bytes, readers raise
RecordingError and nothing else, because recordings are shared and opened by people who did not
make them.

How this stays bounded: only regular files are read (a FIFO or ``/dev/zero`` never ends, and
opening a FIFO blocks until someone writes to it). A line is read at most LINE_LIMIT bytes at a
time (HEADER_LIMIT for line 1), so a file of one endless line costs a megabyte, not its size.
The one kind of line that may be longer is an inline payload (``"data_b64": "..."``: format 1,
and ``show --jsonl`` exports): such a line is first measured without being kept, then its base64
is decoded piece by piece, so it costs the payload it holds and nothing more. A raw payload is
read in pieces too, and a byte count that claims more than the file holds is never read into
memory: if the file holds later events past the claimed payload's start, the count is damage.

Times are made safe for whoever plays a recording: ``format`` refuses non-finite or absurd
times, and an event recorded earlier than the one before it (which our writer never does) is
moved to the time of the one before it, with a warning, so time never runs backwards.

What happens to a payload's bytes is the one thing a reader of another kind changes: each piece
goes to a sink (``_sink``), which here keeps them all; an index (``workbench.recording.index``)
keeps only the first few and where the rest lies. ``_report`` is called between pieces of work,
so such a reader can show its progress, or stop.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol, TypeVar

from workbench.events import Event
from workbench.files import NotRegularFile, open_regular
from workbench.recording.format import (
    RAW_KEY,
    Header,
    RecordingError,
    StrPath,
    carries_payload,
    decode_event,
    decode_header,
    parse_line,
    raw_size,
)

PAYLOAD_PIECE = 1 << 20
"""The most a reader asks for at once while reading a raw payload or a long line."""

HEADER_LIMIT = 64 << 10
"""Line 1 is a handful of short fields; anything longer is not a recording."""

LINE_LIMIT = 1 << 20
"""An event line without an inline payload: a few hundred bytes, an OS error message at most."""

_T = TypeVar("_T")
_INLINE_KEY = re.compile(rb'"data_b64"\s*:\s*"')
_BASE64_PIECE = 4 << 20  # a multiple of 4: base64 decodes in whole quads

_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True, slots=True)
class Recording:
    """A whole recording; ``warning`` tells people what was lost, if anything.

    ``events`` is a list in memory (``read_recording``), or a view that reads each payload from
    the file when its event is asked for (``RecordingIndex.whole``).
    """

    path: Path
    header: Header
    events: Sequence[Event]
    truncated: bool
    warning: str | None


class PayloadSink(Protocol):
    """Where the pieces of one payload go as the reader meets them, in order."""

    def add(self, piece: bytes) -> None: ...

    def value(self) -> bytes:
        """What the event will carry as its payload."""
        ...


class _Whole:
    """Keeps every byte: the event carries its whole payload."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def add(self, piece: bytes) -> None:
        self._pieces.append(piece)

    def value(self) -> bytes:
        return b"".join(self._pieces)


class RecordingReader:
    """Streams one recording: the header up front, events lazily, truncation known at the end.

    Opening reads and checks the header, so a file that is not a readable recording fails at
    once rather than part way through a replay.
    """

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self.truncated_at: int | None = None
        self.backwards_at: int | None = None
        """The first line whose time was earlier than the event before it, if any."""
        self.backwards_count = 0
        self._last_mono: float | None = None
        self._after_raw: int | None = None
        self._line_of_last_event = 1
        self._raw_size = 0
        self._file: BinaryIO = _open_regular(self.path)
        try:
            self.header = self._read_header()
        except BaseException:
            self._file.close()
            raise

    @property
    def truncated(self) -> bool:
        return self.truncated_at is not None

    @property
    def warning(self) -> str | None:
        """What people should know about what they were shown: times moved, an event lost."""
        notes = []
        if self.backwards_at is not None:
            count = self.backwards_count
            events = "1 event" if count == 1 else f"{count} events"
            notes.append(
                f"time runs backwards at line {self.backwards_at} ({events} in all)"
                " — each is shown at the time of the event before it"
            )
        if self.truncated_at is not None:
            notes.append(
                f"the last event (line {self.truncated_at}) was cut short"
                " — the recording ends at the last complete event"
            )
        return "; ".join(notes) or None

    def __iter__(self) -> Iterator[Event]:
        line_no = 2
        try:
            while raw := self._readline(line_no, LINE_LIMIT):
                event, line_no = self._decode(raw, line_no)
                self._report()
                if event is not None:
                    yield self._in_order(event)
        except RecordingError as exc:
            raise exc.in_file(self.path) from None

    def _sink(self, offset: int, *, inline: bool) -> PayloadSink:
        """Where the payload starting at ``offset`` goes (``inline``: as base64 text there)."""
        return _Whole()

    def _report(self) -> None:
        """Called after each line and each piece of a payload; readers of other kinds show
        their progress here, or raise to stop."""

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _read_header(self) -> Header:
        raw = self._readline(1, HEADER_LIMIT)
        if not raw:
            raise RecordingError("empty file", path=self.path)
        if len(raw) > HEADER_LIMIT:
            reason = (
                f"not a workbench recording (line 1 is over {HEADER_LIMIT // 1024} KiB long,"
                " and a recording's header is a few hundred bytes)"
            )
            raise RecordingError(reason, line_no=1, path=self.path)
        try:
            obj = parse_line(raw, 1)
        except RecordingError:
            obj = {}  # not even JSON: decode_header reports the missing header
        try:
            return decode_header(obj)
        except RecordingError as exc:
            raise exc.in_file(self.path) from None

    def _in_order(self, event: Event) -> Event:
        """Time never runs backwards: an event earlier than the last one is moved up to it."""
        last = self._last_mono
        if last is not None and event.mono < last:
            if self.backwards_at is None:
                self.backwards_at = self._line_of_last_event
            self.backwards_count += 1
            return replace(event, mono=last)
        self._last_mono = event.mono
        return event

    def _readline(self, line_no: int, limit: int) -> bytes:
        """Up to ``limit`` + 1 bytes: more than ``limit`` without a newline means a long line."""
        return self._guarded(partial(self._file.readline, limit + 1), line_no)

    def _read(self, size: int, line_no: int) -> bytes:
        return self._guarded(partial(self._file.read, size), line_no)

    def _guarded(self, read: Callable[[], _T], line_no: int) -> _T:
        """A read failure mid-file is a RecordingError like any other damage."""
        try:
            return read()
        except OSError as exc:
            reason = f"cannot read ({exc.strerror or exc})"
            raise RecordingError(reason, line_no=line_no, path=self.path) from None

    def _decode(self, raw: bytes, line_no: int) -> tuple[Event | None, int]:
        """The event this line starts (None if blank or cut short) and the next line's number.

        Line numbers count the newlines inside raw payloads too, so they match what an editor
        shows.
        """
        self._line_of_last_event = line_no
        after_raw, self._after_raw = self._after_raw, None
        if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
            return self._decode_long(raw, line_no)
        if not raw.strip():
            if after_raw is not None:  # the writer never does this; a short count does
                reason = (
                    f"the {self._raw_size} raw bytes after this line are followed by a blank"
                    " line: is the byte count wrong? The file is damaged"
                )
                raise RecordingError(reason, line_no=after_raw)
            return None, line_no + 1
        try:
            obj = parse_line(raw, line_no)
        except RecordingError as exc:
            if raw.endswith(b"\n"):
                raise _blame_the_count(exc, after_raw) from None
            self.truncated_at = line_no  # only the last line can lack its newline
            return None, line_no + 1
        size = raw_size(obj, line_no, self.header)
        if size is None:
            return decode_event(obj, line_no, self.header), line_no + 1
        found = self._read_payload(size, obj, line_no)
        if found is None:
            self.truncated_at = line_no
            return None, line_no + 1
        payload, newlines = found
        event = decode_event(obj, line_no, self.header, payload)
        self._after_raw, self._raw_size = line_no, size
        return event, line_no + 2 + newlines

    def _read_payload(
        self, size: int, obj: dict[str, Any], line_no: int
    ) -> tuple[bytes, int] | None:
        """The raw payload after a line (as its sink keeps it) and the newlines in it, or None
        if the file ends before it does.

        A count that claims more than the file holds is never read: if events follow the
        line, the count is damaged; if not, a crash cut the payload short.
        """
        start = self._tell(line_no)
        if size > self._file_size(line_no) - start:
            self._check_nothing_follows(obj, line_no)
            return None
        sink, left, newlines = self._sink(start, inline=False), size, 0
        while left:
            piece = self._read(min(left, PAYLOAD_PIECE), line_no)
            if not piece:
                return None  # the file shrank under us
            sink.add(piece)
            newlines += piece.count(b"\n")
            left -= len(piece)
            self._report()
        if self._read(1, line_no) not in (b"\n", b""):
            reason = f"the {size} raw bytes after this line do not end with a newline"
            raise RecordingError(f"{reason}: the file is damaged", line_no=line_no)
        return sink.value(), newlines

    def _check_nothing_follows(self, obj: dict[str, Any], line_no: int) -> None:
        """A raw count beyond the end of the file: damage if later events follow it.

        A crash cuts a file inside its last payload; a count that swallows later event lines
        (recognised by their larger ``seq``) was changed after the file was written.
        """
        seq = obj.get("seq")
        if type(seq) is not int:
            return
        carry = b""
        while piece := self._read(PAYLOAD_PIECE, line_no):
            self._report()
            lines = (carry + piece).split(b"\n")
            carry = lines.pop()[-LINE_LIMIT:]
            if any(_later_event(line, seq) for line in lines):
                reason = (
                    f"the byte count says {obj[RAW_KEY]} raw bytes follow this line, but later"
                    " events start before they end: the count is damaged"
                )
                raise RecordingError(reason, line_no=line_no)

    def _decode_long(self, head: bytes, line_no: int) -> tuple[Event | None, int]:
        """A line over LINE_LIMIT: only an inline payload may make a line that long.

        The line is measured first without keeping it, so a cut-short or endless line costs
        no memory; then the base64 is decoded piece by piece.
        """
        found = _INLINE_KEY.search(head, 0, HEADER_LIMIT)
        if found is None:
            reason = (
                f"the line is over {LINE_LIMIT >> 20} MiB long, and only an event with an"
                " inline payload (data_b64) may be: the file is damaged"
            )
            raise RecordingError(reason, line_no=line_no)
        start = self._tell(line_no) - len(head)
        end = self._find_line_end(line_no)
        if end is None:
            self.truncated_at = line_no
            return None, line_no + 1
        self._seek(start + found.end(), line_no)
        sink = self._sink(start + found.end(), inline=True)
        self._decode_base64(sink, end - (start + found.end()), line_no)
        payload = sink.value()
        tail = self._readline(line_no, LINE_LIMIT)
        if not tail.endswith(b"\n"):
            raise RecordingError("the line is damaged after its inline payload", line_no=line_no)
        obj = parse_line(head[: found.end()] + b'"' + tail, line_no)
        kind = obj.get("kind")
        if isinstance(kind, str) and not carries_payload(kind) or RAW_KEY in obj:
            reason = f"an inline payload on a line that cannot carry one ({kind!r} event)"
            raise RecordingError(reason, line_no=line_no)
        return decode_event(obj, line_no, self.header, payload), line_no + 1

    def _find_line_end(self, line_no: int) -> int | None:
        """The file offset of the newline ending the current line, or None at the end of file."""
        position = self._tell(line_no)
        while piece := self._read(PAYLOAD_PIECE, line_no):
            self._report()
            newline = piece.find(b"\n")
            if newline >= 0:
                return position + newline
            position += len(piece)
        return None

    def _decode_base64(self, sink: PayloadSink, most: int, line_no: int) -> None:
        """Decode base64 up to its closing quote into ``sink``, reading at most ``most`` bytes
        of it."""
        carry, left = b"", most
        while left > 0:
            text = self._read(min(left, _BASE64_PIECE), line_no)
            left -= len(text)
            quote = text.find(b'"')
            if quote >= 0:
                self._seek(self._tell(line_no) - len(text) + quote + 1, line_no)
                sink.add(_base64(carry + text[:quote], line_no, final=True))
                return
            text = carry + text
            whole = len(text) - len(text) % 4
            sink.add(_base64(text[:whole], line_no, final=False))
            carry = text[whole:]
            self._report()
        raise RecordingError("field 'data_b64' should be base64 text", line_no=line_no)

    def _tell(self, line_no: int) -> int:
        return self._guarded(self._file.tell, line_no)

    def _seek(self, offset: int, line_no: int) -> None:
        self._guarded(partial(self._file.seek, offset), line_no)

    def _file_size(self, line_no: int) -> int:
        """Asked afresh each time: a recording can be read while it is still being written."""
        try:
            return os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            reason = f"cannot read ({exc.strerror or exc})"
            raise RecordingError(reason, line_no=line_no, path=self.path) from None


def _open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, refusing (without blocking) anything else."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(mode)  # a device is not even opened
        fd, _ = open_regular(path)  # and a FIFO swapped in since the stat cannot block us
    except NotRegularFile as exc:
        what = next((name for test, name in _FILE_KINDS if test(exc.mode)), "not a file")
        reason = f"cannot read {what}: a recording is a regular file"
        raise RecordingError(reason, path=path) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RecordingError(f"cannot read ({reason})", path=path) from None
    return os.fdopen(fd, "rb")


def _base64(text: bytes, line_no: int, *, final: bool) -> bytes:
    """One piece of an inline payload; only the last piece may end in ``=`` padding."""
    try:
        if not final and text.endswith(b"="):
            raise ValueError("padding before the end")
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RecordingError("field 'data_b64' should be base64 text", line_no=line_no) from None


def _later_event(line: bytes, seq: int) -> bool:
    """Whether a line reads as one of this recording's later events (a larger ``seq``)."""
    if not line.startswith(b"{"):
        return False
    try:
        obj = parse_line(line, 0)
    except RecordingError:
        return False
    later = obj.get("seq")
    return "kind" in obj and "t" in obj and type(later) is int and later > seq


def _blame_the_count(exc: RecordingError, after_raw: int | None) -> RecordingError:
    """Garbage right after a raw payload most likely means that payload's count was wrong."""
    if after_raw is None:
        return exc
    reason = f"{exc.reason} (is the byte count on line {after_raw} wrong?)"
    return RecordingError(reason, line_no=exc.line_no, path=exc.path)


def read_recording(path: StrPath) -> Recording:
    """Load a whole recording, keeping every complete event of one a crash cut short."""
    with RecordingReader(path) as reader:
        events = list(reader)
    return Recording(
        path=reader.path,
        header=reader.header,
        events=events,
        truncated=reader.truncated,
        warning=reader.warning,
    )


def iter_events(path: StrPath) -> Iterator[Event]:
    """Stream the events of a large recording; it ends quietly at a cut-short last line.

    Use RecordingReader directly to learn whether that happened.
    """
    with RecordingReader(path) as reader:
        yield from reader
