"""Turn what the user typed in the composer into the exact bytes to send.

Three modes cover the ways people think about a message: plain text, text with backslash
escapes for the odd control byte, and raw hex for binary protocols. Errors carry the position
of the offending character so the UI can point at it instead of sending something unintended.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TypeVar

_EnumT = TypeVar("_EnumT", bound=Enum)

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {"r": 0x0D, "n": 0x0A, "t": 0x09, "0": 0x00, "\\": 0x5C}
_ESCAPE_HELP = "(use \\r \\n \\t \\0 \\xNN or \\\\)"

# to_escapes works on a latin-1 decode (byte N becomes code point N) so str.translate can do
# the per-byte work in C.
_TO_ESCAPES = {byte: f"\\x{byte:02x}" for byte in range(256) if not 0x20 <= byte <= 0x7E}
_TO_ESCAPES.update({byte: f"\\{name}" for name, byte in _SIMPLE_ESCAPES.items()})
# Every valid escape, without its backslash, and the byte it stands for.
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|[rnt0\\])")
_ESCAPE_BYTES = {name.encode(): bytes([byte]) for name, byte in _SIMPLE_ESCAPES.items()}
_ESCAPE_BYTES.update(
    {f"x{hi}{lo}".encode(): bytes([int(hi + lo, 16)]) for hi in _HEX_DIGITS for lo in _HEX_DIGITS}
)
# Text that ESCAPES mode reads without an error: runs without a backslash, each backslash
# opening a known escape. One C-speed match checks a megabyte in tens of milliseconds.
_VALID_ESCAPES = re.compile(rb"[^\\]*(?:\\(?:x[0-9a-fA-F]{2}|[rnt0\\])[^\\]*)*")
_NOT_HEX = re.compile(r"[^0-9a-fA-F\s]")
_ASCII_SPACES = {code: None for code in range(128) if chr(code).isspace()}  # \x1c-\x1f too
# text_to_escapes keeps printable text (any script) as it is and spells only what ESCAPES mode
# would read differently or what cannot be seen: the backslash and the ASCII control characters.
_TEXT_TO_ESCAPES = {code: _TO_ESCAPES[code] for code in [*range(0x20), 0x5C, 0x7F]}


class Mode(StrEnum):
    """How the composer's text is read."""

    TEXT = "text"
    ESCAPES = "escapes"
    HEX = "hex"


class LineEnding(StrEnum):
    """What is appended after the message in the text modes."""

    NONE = "none"
    LF = "lf"
    CRLF = "crlf"

    @property
    def bytes(self) -> builtins.bytes:
        return _LINE_ENDING_BYTES[self]


_LINE_ENDING_BYTES = {LineEnding.NONE: b"", LineEnding.LF: b"\n", LineEnding.CRLF: b"\r\n"}


class EncodeError(ValueError):
    """The composer's text cannot be turned into bytes; ``position`` is a 0-based index into
    that text (in characters) so the UI can put the cursor on the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def encode(text: str, mode: Mode, line_ending: LineEnding = LineEnding.NONE) -> bytes:
    """The bytes to send for ``text``. HEX ignores ``line_ending``: hex already names every byte.

    Raises EncodeError for anything that cannot be encoded, never another exception.
    """
    match mode:
        case Mode.TEXT:
            return _utf8(text, 0) + line_ending.bytes
        case Mode.ESCAPES:
            return _unescape(text) + line_ending.bytes
        case Mode.HEX:
            return _unhex(text)


def check(text: str, mode: Mode) -> None:
    """Raise the EncodeError ``encode`` would, without building the bytes: quick enough to run
    on a megabyte while the user pauses typing."""
    if mode is not Mode.ESCAPES:
        encode(text, mode)  # TEXT and HEX encode at C speed already
        return
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        _unescape_carefully(text)  # says which character and where
        return
    valid = _VALID_ESCAPES.match(data)
    assert valid is not None  # the pattern matches the empty string
    if valid.end() < len(data):  # stopped at a backslash that opens no known escape
        _read_escape(text, len(data[: valid.end()].decode("utf-8")))
        _unescape_carefully(text)  # not reached: the pattern and the careful reading agree


def to_escapes(data: bytes) -> str:
    """Spell ``data`` for ESCAPES mode, using only printable ASCII, so any bytes survive a
    trip through the composer (non-ASCII text comes out as ``\\xNN`` per UTF-8 byte)."""
    return data.decode("latin-1").translate(_TO_ESCAPES)


def text_to_escapes(text: str) -> str:
    """Spell TEXT-mode ``text`` for ESCAPES mode so it encodes to the same bytes: backslashes
    are doubled and ASCII control characters become escapes; other text is left readable."""
    return text.translate(_TEXT_TO_ESCAPES)


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
"""A pasted line break of any kind; the group keeps the breaks in ``split``'s result."""


@dataclass(frozen=True, slots=True)
class Paste:
    """Pasted text as the composer should take it: ``text`` to insert at the cursor, in
    ``mode`` (a text-mode paste with line breaks is spelled for escapes mode), and a ``note``
    saying how the line breaks are sent (empty when there are none to explain)."""

    text: str
    mode: Mode
    note: str = ""


def spell_paste(text: str, mode: Mode, ending: LineEnding) -> Paste:
    """Spell pasted ``text`` for a one-line composer in ``mode``, keeping every line.

    A paste reads as if typed: each line break is a line ending (as chosen; as pasted when
    the ending is "none"), and one final break is the Enter still to press. So pasting
    ``GET / HTTP/1.0⏎Host: x⏎⏎`` then Enter with CRLF sends the request byte for byte. In
    text mode a one-line input cannot show a line break, so a paste with breaks is spelled
    for escapes mode (the breaks shown as ``\r\n``), and the composer switches to it,
    respelling what was already typed. In hex mode line breaks are spaces.
    """
    parts = _LINE_BREAK.split(text)  # lines with the breaks between them: [l0, b0, l1, ...]
    if mode is Mode.HEX:
        return Paste(" ".join(parts[::2]), mode)
    if ending is not LineEnding.NONE and len(parts) > 1 and parts[-1] == "":
        del parts[-2:]  # the final break is the Enter that will send it
    if len(parts) == 1:
        return Paste(parts[0], mode)
    lines = parts[::2]
    breaks = [ending.bytes.decode() or pasted for pasted in parts[1::2]]
    if mode is Mode.TEXT:
        lines = [text_to_escapes(line) for line in lines]
    spelled = lines[0]
    for line_break, line in zip(breaks, lines[1:], strict=True):
        spelled += text_to_escapes(line_break) + line
    shown = text_to_escapes(breaks[0]) if len(set(breaks)) == 1 else "line breaks"
    note = (
        f"pasted {len(lines)} lines: each line break is sent as {shown} "
        "(escapes mode shows them; Enter adds the last line ending)"
    )
    return Paste(spelled, Mode.ESCAPES, note)


def to_hex(data: bytes) -> str:
    """Spell ``data`` for HEX mode as lowercase pairs: ``de ad be ef``."""
    return data.hex(" ")


def cycle_mode(mode: Mode) -> Mode:
    """The mode after ``mode``, wrapping, for a single toggle key."""
    return _following(mode)


def cycle_line_ending(line_ending: LineEnding) -> LineEnding:
    """The line ending after ``line_ending``, wrapping, for a single toggle key."""
    return _following(line_ending)


def _following(member: _EnumT) -> _EnumT:
    members = list(type(member))
    return members[(members.index(member) + 1) % len(members)]


def _utf8(text: str, offset: int) -> bytes:
    """UTF-8 of ``text``, which starts at ``offset`` in the user's input.

    Only lone surrogates (say, from a broken paste) can fail here.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        position = offset + error.start
        raise EncodeError(
            f"cannot encode {_describe(text[error.start])} at column {position + 1} as UTF-8",
            position,
        ) from None


def _unescape(text: str) -> bytes:
    """The bytes of ESCAPES-mode ``text``, by one regex split of its UTF-8 (a backslash byte
    is never part of a multi-byte character) and a join: a megabyte of escapes takes tens of
    milliseconds. Anything wrong is left to the careful loop, which says what and where."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return _unescape_carefully(text)
    parts = _ESCAPE.split(data)  # [plain, escape, plain, escape, ..., plain]
    if any(b"\\" in plain for plain in parts[::2]):
        return _unescape_carefully(text)  # an unknown or malformed escape
    parts[1::2] = [_ESCAPE_BYTES[escape] for escape in parts[1::2]]
    return b"".join(parts)


def _unescape_carefully(text: str) -> bytes:
    out = bytearray()
    start = 0
    while (backslash := text.find("\\", start)) != -1:
        out += _utf8(text[start:backslash], start)
        byte, start = _read_escape(text, backslash)
        out.append(byte)
    out += _utf8(text[start:], start)
    return bytes(out)


def _read_escape(text: str, backslash: int) -> tuple[int, int]:
    """The byte an escape at ``backslash`` stands for and where the text after it resumes."""
    column = backslash + 1
    if backslash + 1 == len(text):
        raise EncodeError(
            f"lone backslash at the end, column {column} (write \\\\ for a backslash)", backslash
        )
    letter = text[backslash + 1]
    if letter in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[letter], backslash + 2
    if letter != "x":
        raise EncodeError(
            f"unknown escape {_describe(letter, after_backslash=True)} at column {column} "
            + _ESCAPE_HELP,
            backslash,
        )
    digits = text[backslash + 2 : backslash + 4]
    if len(digits) != 2 or not _HEX_DIGITS.issuperset(digits):
        raise EncodeError(
            f"\\x needs exactly two hex digits, as in \\x0a, at column {column}", backslash
        )
    return int(digits, 16), backslash + 4


def _unhex(text: str) -> bytes:
    """The bytes hex ``text`` names, in C for well-formed text (``bytes.fromhex`` skips ASCII
    whitespace between pairs); anything else goes to the careful reading, which says what."""
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    if text.isascii() and _NOT_HEX.search(text) is None:
        digits = text.translate(_ASCII_SPACES)
        if len(digits) % 2 == 0:
            return bytes.fromhex(digits)  # pairs split by spaces, as in "d e a d"
        raise _odd_digits(len(digits), len(text.rstrip()) - 1)  # only spaces follow it
    return _unhex_carefully(text)


def _odd_digits(count: int, last_digit: int) -> EncodeError:
    return EncodeError(
        f"hex needs an even number of digits, got {count} "
        f"(the last one, at column {last_digit + 1}, has no pair)",
        last_digit,
    )


def _unhex_carefully(text: str) -> bytes:
    digits: list[str] = []
    last_digit = 0
    for position, char in enumerate(text):
        if char in _HEX_DIGITS:
            digits.append(char)
            last_digit = position
        elif not char.isspace():
            raise EncodeError(
                f"not a hex digit: {_describe(char)} at column {position + 1} "
                "(hex mode takes 0-9, a-f and spaces)",
                position,
            )
    if len(digits) % 2:
        raise _odd_digits(len(digits), last_digit)
    return bytes.fromhex("".join(digits))


def _describe(char: str, *, after_backslash: bool = False) -> str:
    """Name ``char`` for an error message without letting it break the message's single line."""
    if char.isprintable():
        return f"'\\{char}'" if after_backslash else f"'{char}'"
    prefix = "backslash followed by " if after_backslash else ""
    return f"{prefix}U+{ord(char):04X}"
