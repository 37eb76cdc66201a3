"""Reading recordings back, including the ones a crash cut short.

A recording is written while the session runs, so the most likely damage is a last event that a
crash or kill interrupted, in its line or in the raw payload after it. That loses one event, not
the recording: readers keep everything before it and say so. Damage anywhere else means the
file is not what we wrote, and is an error naming the line. Whatever the bytes, readers raise
RecordingError and nothing else, because recordings are shared and opened by people who did not
make them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from workbench.events import Event
from workbench.recording.format import (
    Header,
    RecordingError,
    StrPath,
    decode_event,
    decode_header,
    parse_line,
    raw_size,
)

PAYLOAD_PIECE = 1 << 20
"""The most a reader asks for at once while reading a raw payload."""


@dataclass(frozen=True, slots=True)
class Recording:
    """A whole recording in memory; ``warning`` tells people what was lost, if anything."""

    path: Path
    header: Header
    events: list[Event]
    truncated: bool
    warning: str | None


class RecordingReader:
    """Streams one recording: the header up front, events lazily, truncation known at the end.

    Opening reads and checks the header, so a file that is not a readable recording fails at
    once rather than part way through a replay.
    """

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self.truncated_at: int | None = None
        try:
            self._file: BinaryIO = open(self.path, "rb")
        except OSError as exc:
            raise RecordingError(f"cannot read ({exc.strerror or exc})", path=path) from None
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
        if self.truncated_at is None:
            return None
        return (
            f"the last event (line {self.truncated_at}) was cut short"
            " — the recording ends at the last complete event"
        )

    def __iter__(self) -> Iterator[Event]:
        line_no = 2
        try:
            while raw := self._readline(line_no):
                event, line_no = self._decode(raw, line_no)
                if event is not None:
                    yield event
        except RecordingError as exc:
            raise exc.in_file(self.path) from None

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
        raw = self._readline(1)
        if not raw:
            raise RecordingError("empty file", path=self.path)
        try:
            obj = parse_line(raw, 1)
        except RecordingError:
            obj = {}  # not even JSON: decode_header reports the missing header
        try:
            return decode_header(obj)
        except RecordingError as exc:
            raise exc.in_file(self.path) from None

    def _readline(self, line_no: int) -> bytes:
        return self._guarded(self._file.readline, line_no)

    def _read(self, size: int, line_no: int) -> bytes:
        return self._guarded(partial(self._file.read, size), line_no)

    def _guarded(self, read: Callable[[], bytes], line_no: int) -> bytes:
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
        if not raw.strip():
            return None, line_no + 1
        try:
            obj = parse_line(raw, line_no)
        except RecordingError:
            if raw.endswith(b"\n"):
                raise
            self.truncated_at = line_no  # only the last line can lack its newline
            return None, line_no + 1
        size = raw_size(obj, line_no, self.header)
        if size is None:
            return decode_event(obj, line_no, self.header), line_no + 1
        payload = self._read_payload(size, line_no)
        if payload is None:
            self.truncated_at = line_no
            return None, line_no + 1
        event = decode_event(obj, line_no, self.header, payload)
        return event, line_no + 2 + payload.count(b"\n")

    def _read_payload(self, size: int, line_no: int) -> bytes | None:
        """The raw bytes after a line, or None if the file ends before they do.

        Read in bounded pieces: a damaged count must cost what the file holds, not what it says.
        """
        pieces, left = [], size
        while left:
            piece = self._read(min(left, PAYLOAD_PIECE), line_no)
            if not piece:
                return None
            pieces.append(piece)
            left -= len(piece)
        if self._read(1, line_no) not in (b"\n", b""):
            reason = f"the {size} raw bytes after this line do not end with a newline"
            raise RecordingError(f"{reason}: the file is damaged", line_no=line_no)
        return b"".join(pieces)


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
