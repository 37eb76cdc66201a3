"""Comparing an answer with the recorded one, in bounded memory, and showing where they part.

How this works: an answer is checked against the recording while it arrives (``Comparison``):
without ``--ignore`` each chunk is compared at memcmp speed and only a window after the first
difference is kept; with ``--ignore`` the masked streams can only be compared whole, so the answer
is kept up to the recorded length plus OVERRUN_MARGIN. Past that it is clearly too long and is only
counted. A diff only ever covers a window of a few KiB around the first difference, whatever
the size of the streams, and states that difference's byte offset. Recorded answers stay the
recorded chunks (``Stream``), so a replay holds no second copy of them. Pure functions: no I/O.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

from workbench.safe_text import escape_bytes, hex_dump, is_mostly_text

PLACEHOLDER = b"<ignored>"
"""What every ``--ignore`` match becomes, on both sides, before the streams are compared."""

DIFF_LINE_LIMIT = 200
"""A diff longer than this is cut: past the first few screens a difference is already clear."""

DIFF_BEFORE = 512
"""Bytes before the first difference a diff may show (it starts CONTEXT_LINES lines back)."""

DIFF_AFTER = 4096
"""Bytes from the first difference on that a diff shows; all that is kept of a wrong answer."""

HEX_AFTER = 256
"""A hex diff shows less: 16 rows from the first difference on."""

CONTEXT_LINES = 3
AFTER_LINES = 16  # text lines shown from the one holding the first difference on
HEX_WIDTH = 16
COMPARE_CHUNK = 1 << 16

OVERRUN_MARGIN = 64 * 1024
"""Bytes beyond the recorded answer after which it is clearly longer and reading stops."""


def mask(data: bytes, ignore: re.Pattern[bytes] | None) -> bytes:
    return data if ignore is None else ignore.sub(PLACEHOLDER, data)


def first_difference(expected: bytes, received: bytes) -> int | None:
    """Offset of the first byte where the streams part (where the shorter one ends, if it is
    a prefix of the other), or None when they are equal. Compares at memcmp speed."""
    if expected == received:
        return None
    size = min(len(expected), len(received))
    start = 0
    while (
        start < size
        and expected[start : start + COMPARE_CHUNK] == received[start : start + COMPARE_CHUNK]
    ):
        start += COMPARE_CHUNK
    for index in range(start, min(start + COMPARE_CHUNK, size)):
        if expected[index] != received[index]:
            return index
    return size


def diff_streams(
    expected: bytes, received: bytes, ignore: re.Pattern[bytes] | None = None
) -> str | None:
    """None when the streams match once ``ignore`` is masked; otherwise a diff of a window.

    The window starts a few lines (or hex rows) before the first difference, whose byte offset
    the first line states, and covers a few KiB after it. Text is diffed by lines with
    unprintables escaped; anything else as ``hexdump -C`` lines with their real offsets.
    """
    masked_expected, masked_received = mask(expected, ignore), mask(received, ignore)
    first = first_difference(masked_expected, masked_received)
    if first is None:
        return None
    origin = max(0, first - DIFF_BEFORE)
    return _window_diff(
        masked_expected[origin : first + DIFF_AFTER],
        masked_received[origin : first + DIFF_AFTER],
        origin,
        first,
        masked=ignore is not None,
    )


def _window_diff(expected: bytes, received: bytes, origin: int, first: int, *, masked: bool) -> str:
    """Both windows start at byte ``origin`` of their streams and agree up to byte ``first``."""
    at = first - origin
    start = _line_start(expected, at, CONTEXT_LINES)
    if origin and start == 0:  # the window starts mid-line: do not start mid-character either
        while start < at and 0x80 <= expected[start] < 0xC0:
            start += 1
    if is_mostly_text(expected[start:]) and is_mostly_text(received[start:]):
        before = _text_lines(expected[start : _lines_end(expected, at, AFTER_LINES)])
        after = _text_lines(received[start : _lines_end(received, at, AFTER_LINES)])
    else:
        start = max(0, (first // HEX_WIDTH - CONTEXT_LINES) * HEX_WIDTH - origin)
        end = at + HEX_AFTER
        before = _hex_lines(expected[start:end], origin + start)
        after = _hex_lines(received[start:end], origin + start)
    where = f"from byte {origin + start}"
    lines = list(
        difflib.unified_diff(
            before, after, f"expected ({where})", f"received ({where})", lineterm=""
        )
    )
    if len(lines) > DIFF_LINE_LIMIT:
        lines[DIFF_LINE_LIMIT:] = [f"… ({len(lines) - DIFF_LINE_LIMIT} more diff lines)"]
    compared = " of the streams with --ignore matches masked" if masked else ""
    return "\n".join([f"first difference at byte {first}{compared}", *lines])


def _line_start(data: bytes, at: int, lines: int) -> int:
    """Where the line ``lines`` lines above the one holding byte ``at`` starts (0 at most)."""
    start = data.rfind(b"\n", 0, at) + 1
    for _ in range(lines):
        if start == 0:
            break
        start = data.rfind(b"\n", 0, start - 1) + 1
    return start


def _lines_end(data: bytes, at: int, lines: int) -> int:
    """Where the ``lines``-th line from the one holding byte ``at`` ends (or the data does)."""
    end = at
    for _ in range(lines):
        newline = data.find(b"\n", end)
        if newline < 0:
            return len(data)
        end = newline + 1
    return end


def _text_lines(data: bytes) -> list[str]:
    return [escape_bytes(line) for line in data.splitlines(keepends=True)]


def _hex_lines(data: bytes, offset: int) -> list[str]:
    """``hexdump -C`` lines labelled with their offsets in the whole stream."""
    return [f"{int(line[:8], 16) + offset:08x}{line[8:]}" for line in hex_dump(data, HEX_WIDTH)]


class Stream:
    """A recorded byte stream kept as its recorded chunks (no joined copy), sliceable."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = [chunk for chunk in chunks if chunk]
        self._starts = list(accumulate((len(chunk) for chunk in self._chunks), initial=0))

    def __len__(self) -> int:
        return self._starts[-1]

    def slice(self, start: int, end: int) -> bytes:
        """``stream[start:end]`` for 0 <= start: a copy of just those bytes."""
        end = min(end, len(self))
        if start >= end:
            return b""
        index = bisect_right(self._starts, start) - 1
        parts = []
        while start < end:
            offset, chunk = self._starts[index], self._chunks[index]
            parts.append(chunk[start - offset : end - offset])
            start = offset + len(chunk)
            index += 1
        return b"".join(parts)

    def join(self) -> bytes:
        return b"".join(self._chunks)


class Comparison:
    """An answer checked against the recorded one while it arrives, in bounded memory.

    Without ``ignore`` each chunk is compared on arrival and only DIFF_AFTER bytes from the first
    difference on are kept (what precedes it equals the recording). With ``ignore`` the masked
    streams can only be compared whole, so the answer is kept up to the recorded length plus
    OVERRUN_MARGIN. Past that limit bytes are only counted: the answer is clearly too long.
    """

    def __init__(self, expected: Stream | bytes, ignore: re.Pattern[bytes] | None) -> None:
        self.expected = expected if isinstance(expected, Stream) else Stream([expected])
        self.ignore = ignore
        self.limit = len(expected) + OVERRUN_MARGIN
        self.size = 0
        self._kept = bytearray()
        self._first: int | None = None

    @property
    def overrun(self) -> bool:
        """More came than was recorded, by more than the margin: stop reading."""
        return self.size > self.limit

    @property
    def differs(self) -> bool:
        """Already known to differ, however the rest of the answer turns out."""
        return self.overrun or (self.ignore is None and self._first is not None)

    def add(self, data: bytes) -> None:
        start = self.size
        self.size += len(data)
        if self.ignore is not None:
            room = self.limit - len(self._kept)
        else:
            if self._first is None:
                index = first_difference(self.expected.slice(start, start + len(data)), data)
                if index is None:
                    return
                self._first = start + index
                data = data[index:]
            room = DIFF_AFTER - len(self._kept)
        if room > 0:
            self._kept += data[:room]

    def diff(self) -> str | None:
        """None for a match, else a windowed diff (slow with ``ignore``: run it in a thread)."""
        if self.ignore is not None:
            return diff_streams(self.expected.join(), bytes(self._kept), self.ignore)
        first = self._first
        if first is None:
            if self.size == len(self.expected):
                return None
            first = self.size  # the answer stopped short
        origin = max(0, first - DIFF_BEFORE)
        received = self.expected.slice(origin, first) + bytes(self._kept)
        expected = self.expected.slice(origin, first + DIFF_AFTER)
        return _window_diff(expected, received, origin, first, masked=False)
