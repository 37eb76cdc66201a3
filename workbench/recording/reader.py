"""Reading recordings back, including the ones a crash cut short.

A recording is written while the session runs, so the most likely damage is a last line that a
crash or kill interrupted. That loses one event, not the recording: readers keep everything
before it and say so. Damage anywhere else means the file is not what we wrote, and is an error
naming the line. Whatever the bytes, readers raise RecordingError and nothing else, because
recordings are shared and opened by people who did not make them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
)


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
            f"the last line (line {self.truncated_at}) was cut short"
            " — the recording ends at the last complete event"
        )

    def __iter__(self) -> Iterator[Event]:
        try:
            for line_no, raw in self._lines(first=2):
                event = self._decode(raw, line_no)
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

    def _lines(self, first: int) -> Iterator[tuple[int, bytes]]:
        line_no = first
        while raw := self._readline(line_no):
            yield line_no, raw
            line_no += 1

    def _readline(self, line_no: int) -> bytes:
        """One raw line; a read failure mid-file is a RecordingError like any other damage."""
        try:
            return self._file.readline()
        except OSError as exc:
            reason = f"cannot read ({exc.strerror or exc})"
            raise RecordingError(reason, line_no=line_no, path=self.path) from None

    def _decode(self, raw: bytes, line_no: int) -> Event | None:
        """The line's event, or None for a blank line or a cut-short last line."""
        if not raw.strip():
            return None
        try:
            obj = parse_line(raw, line_no)
        except RecordingError:
            if raw.endswith(b"\n"):
                raise
            self.truncated_at = line_no  # only the last line can lack its newline
            return None
        return decode_event(obj, line_no, self.header)


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
