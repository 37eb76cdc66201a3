"""Render untrusted network bytes as plain, inert text.

Whatever a peer sends is data, never markup or terminal control: a stray ESC or OSC sequence
could recolour, retitle or scramble the user's terminal, and U+202E could visually reorder a
line. Every function here returns strings free of control, format, separator, surrogate,
private-use and unassigned code points, so callers can print them or hand them to Rich's
``Text(...)`` (never to markup parsing) without further thought.

Width is part of being inert: a row is laid out by measuring cells, so every character shown
must take the one or two cells the layout (Rich) measures and the terminal draws. A lone
combining mark (the bytes ``de ad`` decode to U+07AD) has no width of its own and lands on
whatever came before, a border included; variation selectors, skin-tone modifiers, Hangul
fillers and symbols whose width changed between Unicode versions are drawn differently by
different terminals. All of those are escaped. A combining mark is shown only right after a
letter, digit or symbol shown as itself (``e`` + U+0301 reads ``é``), at most
``MAX_MARKS_PER_BASE`` of them, so accents stay legible and cannot stack without end.

Escapes follow the composer's ESCAPES mode (``\\r \\n \\t \\0 \\\\ \\xNN``), and anything not
shown verbatim is spelled as one ``\\xNN`` per underlying byte, so text copied out of the log
and pasted into the composer sends exactly the bytes that were received.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

_SHORT_ESCAPES = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t", "\0": "\\0"}

# Runs of anything other than printable ASCII (backslash included, since it must be doubled).
# Printable ASCII is by far the common case and is left to the regex engine at C speed.
_NEEDS_A_LOOK = re.compile(r"[^ -\[\]-~]+")

# Control characters other than \t \n \r, as counted by is_mostly_text (C0, DEL and C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# surrogateescape maps an undecodable byte 0xNN to the lone surrogate U+DCNN; a strict UTF-8
# decode never yields surrogates, so these stand for raw bytes and nothing else.
_ESCAPED_BYTE_LOW, _ESCAPED_BYTE_HIGH = "\udc80", "\udcff"

# Characters whose drawn width terminals disagree on, or which have none of their own; shown
# as bytes wherever they appear (marks are handled apart, since a base makes them safe).
_UNPLACEABLE_RANGES = (
    (0x1160, 0x11FF),  # Hangul medial and final jamo: zero width, join the previous syllable
    (0xD7B0, 0xD7FF),
    (0x3164, 0x3164),  # Hangul fillers: blank, width 0 or 1 or 2 depending on who measures
    (0xFFA0, 0xFFA0),
    (0x180B, 0x180F),  # variation selectors: change the previous glyph, and its width
    (0xFE00, 0xFE0F),
    (0xE0100, 0xE01EF),
    (0x1F3FB, 0x1F3FF),  # emoji skin-tone modifiers: merge into the previous emoji
    (0x2630, 0x2637),  # trigrams, digrams, hexagrams, Tai Xuan Jing, counting rods:
    (0x268A, 0x268F),  # narrow before Unicode 16, wide after, so terminals disagree
    (0x4DC0, 0x4DFF),
    (0x1D300, 0x1D356),
    (0x1D360, 0x1D376),
)

MAX_MARKS_PER_BASE = 4
"""Combining marks kept on one base character (Vietnamese and pointed Hebrew need 2-4); more
would stack over the rows above and below, so the rest are escaped."""

_TEXT_CONTROL_RATIO = 10  # at most one control character in this many counts as text


def escape_bytes(data: bytes, limit: int | None = None) -> str:
    """Show ``data`` as readable text, escaping whatever could not be shown safely.

    Valid UTF-8 stays as characters (``é``, ``日本``); backslash and ``\\r \\n \\t \\0`` use short
    escapes; every other unprintable character (ESC, DEL, C1 controls, U+202E, non-ASCII
    spaces, ...) and every invalid byte becomes ``\\xNN`` per byte. The result feeds back into
    the composer's ESCAPES mode to reproduce ``data`` exactly (when not cut by ``limit``).

    ``limit`` bounds the input bytes looked at, so a 1 MB payload costs no more than its first
    ``limit`` bytes. A UTF-8 sequence straddling the limit is counted as cut rather than shown
    as invalid bytes it is not.
    """
    shown, cut = _split(data, limit)
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text = decoder.decode(shown, final=cut == 0)
    pending, _ = decoder.getstate()
    return _with_cut_note(_NEEDS_A_LOOK.sub(_escape_run, text), cut + len(pending))


def hex_inline(data: bytes, limit: int | None = None) -> str:
    """Show ``data`` as space-separated hex pairs, the form the composer's HEX mode reads."""
    shown, cut = _split(data, limit)
    return _with_cut_note(shown.hex(" "), cut)


def hex_dump(data: bytes, width: int = 16, limit: int | None = None) -> list[str]:
    """Lay ``data`` out like ``hexdump -C`` (without its trailing total-length line).

    Each line holds ``width`` bytes: an 8-digit hex offset, the hex pairs with an extra gap
    after every 8, and an ASCII column with ``.`` for anything outside printable ASCII. When
    ``limit`` cuts the data, a final ``… (+N bytes)`` line says how much is missing.
    """
    if width < 1:
        raise ValueError(f"hex_dump width must be at least 1, got {width}")
    shown, cut = _split(data, limit)
    hex_width = len(_hex_columns(bytes(width)))
    lines = [
        _hex_dump_line(offset, shown[offset : offset + width], hex_width)
        for offset in range(0, len(shown), width)
    ]
    if cut:
        lines.append(_cut_note(cut))
    return lines


def is_mostly_text(data: bytes) -> bool:
    """Guess whether ``data`` reads better as text than as hex.

    It must be valid UTF-8 (a sequence cut at the very end is forgiven, since TCP splits
    wherever it likes) with few control characters besides ``\\t \\n \\r``.
    """
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return len(_CONTROL.findall(text)) * _TEXT_CONTROL_RATIO <= len(text)


def _split(data: bytes, limit: int | None) -> tuple[bytes, int]:
    """The part of ``data`` to show and how many bytes are left out."""
    if limit is None or limit >= len(data):
        return data, 0
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    return data[:limit], len(data) - limit


def is_shown_as_is(text: str) -> bool:
    """A quick check that ``escape_bytes`` shows ``text`` (UTF-8 encoded) unchanged.

    False for any text with combining marks, even those that would be kept on their base.
    """
    return text.isprintable() and "\\" not in text and _needs_care().search(text) is None


def _escape_run(match: re.Match[str]) -> str:
    run = match.group()
    if run.isprintable() and "\\" not in run and _needs_care().search(run) is None:
        return run  # non-ASCII text such as "日本" needs no per-character work
    shown: list[str] = []
    # Marks kept on the last base so far, or -1 when there is no base to put one on. A run
    # follows printable ASCII other than backslash (a base, unless a space) or starts the text.
    start = match.start()
    marks = 0 if start and match.string[start - 1] != " " else -1
    for char in run:
        category = unicodedata.category(char)
        if category[0] == "M" and not _unplaceable(char):
            # Spacing marks (Mc) are escaped too: terminals disagree on their width
            keep = category != "Mc" and 0 <= marks < MAX_MARKS_PER_BASE
            shown.append(char if keep else _as_bytes(char))
            marks = marks + 1 if keep else -1
            continue
        piece = _escape_char(char)
        shown.append(piece)
        marks = 0 if piece == char and char != " " else -1
    return "".join(shown)


def _escape_char(char: str) -> str:
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    # isprintable excludes every Other (C*) and Separator (Z*) category but space
    if char.isprintable() and not _unplaceable(char):
        return char
    return _as_bytes(char)


def _as_bytes(char: str) -> str:
    if _ESCAPED_BYTE_LOW <= char <= _ESCAPED_BYTE_HIGH:
        return f"\\x{ord(char) - 0xDC00:02x}"
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))


def is_unplaceable(char: str) -> bool:
    """Whether terminals draw ``char`` at widths they disagree on, or fold it into the glyph
    before it (variation selectors, skin-tone modifiers, Hangul fillers, ...): never shown as
    itself."""
    return _unplaceable(char)


def _unplaceable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNPLACEABLE_RANGES)


@functools.cache
def _needs_care() -> re.Pattern[str]:
    """Every combining mark and unplaceable character, as one character class.

    Built on first use from this Python's Unicode database (marks lie below U+20000 and in
    the variation selectors supplement): about 20 ms, once, instead of a look per character.
    """
    ranges: list[list[int]] = []
    category = unicodedata.category
    for code in range(0x300, 0x20000):
        if category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    ranges.extend([low, high] for low, high in _UNPLACEABLE_RANGES)
    return re.compile(
        "[" + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in ranges) + "]"
    )


def _hex_dump_line(offset: int, chunk: bytes, hex_width: int) -> str:
    ascii_column = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
    return f"{offset:08x}  {_hex_columns(chunk).ljust(hex_width)}  |{ascii_column}|"


def _hex_columns(chunk: bytes) -> str:
    return "  ".join(chunk[start : start + 8].hex(" ") for start in range(0, len(chunk), 8))


def _with_cut_note(shown: str, cut: int) -> str:
    if not cut:
        return shown
    return f"{shown} {_cut_note(cut)}" if shown else _cut_note(cut)


def _cut_note(cut: int) -> str:
    return f"… (+{cut} bytes)"
