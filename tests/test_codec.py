"""The composer codec: each mode, its errors, and round trips with the preview spellings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import codec
from workbench.codec import (
    EncodeError,
    LineEnding,
    Mode,
    cycle_line_ending,
    cycle_mode,
    encode,
    text_to_escapes,
    to_escapes,
    to_hex,
)

# Characters that make escape and hex parsing interesting, mixed into arbitrary text
# (lone surrogates included: str.encode rejects them).
_TRICKY = st.sampled_from(["\\", "x", "X", "0", "a", "F", "g", " ", "\n", "\ud800", "é"])
_ANY_TEXT = st.text(alphabet=st.characters(codec=None) | _TRICKY)


@pytest.mark.parametrize(
    ("line_ending", "suffix"),
    [(LineEnding.NONE, b""), (LineEnding.LF, b"\n"), (LineEnding.CRLF, b"\r\n")],
)
def test_line_ending_bytes(line_ending: LineEnding, suffix: bytes) -> None:
    assert line_ending.bytes == suffix
    assert encode("hi", Mode.TEXT, line_ending) == b"hi" + suffix
    assert encode("hi", Mode.ESCAPES, line_ending) == b"hi" + suffix


def test_text_mode_is_verbatim_utf8() -> None:
    assert encode("café \\n 日本", Mode.TEXT) == "café \\n 日本".encode()


def test_line_ending_defaults_to_none() -> None:
    assert encode("hi", Mode.TEXT) == b"hi"


@pytest.mark.parametrize("mode", [Mode.TEXT, Mode.ESCAPES])
def test_empty_text_is_just_the_line_ending(mode: Mode) -> None:
    assert encode("", mode) == b""
    assert encode("", mode, LineEnding.CRLF) == b"\r\n"


def test_empty_hex_is_no_bytes() -> None:
    assert encode("", Mode.HEX, LineEnding.CRLF) == b""
    assert encode("  \n ", Mode.HEX) == b""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\\rb", b"a\rb"),
        ("\\n", b"\n"),
        ("\\t", b"\t"),
        ("\\0", b"\0"),
        ("\\012", b"\x0012"),
        ("\\\\", b"\\"),
        ("\\\\n", b"\\n"),
        ("\\x41\\x6a\\x6A", b"Aj\x6a"),
        ("\\xff", b"\xff"),
        ("\\xFF", b"\xff"),
        ("é\\x00", b"\xc3\xa9\x00"),
    ],
)
def test_escapes(text: str, expected: bytes) -> None:
    assert encode(text, Mode.ESCAPES) == expected


def test_escapes_line_ending_follows_escaped_bytes() -> None:
    assert encode("GET /\\r\\n", Mode.ESCAPES, LineEnding.CRLF) == b"GET /\r\n\r\n"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        (
            "ab\\q",
            2,
            "unknown escape '\\q' at column 3 (use \\r \\n \\t \\0 \\xNN or \\\\)",
        ),
        (
            "\\\n",
            0,
            "unknown escape backslash followed by U+000A at column 1 "
            "(use \\r \\n \\t \\0 \\xNN or \\\\)",
        ),
        ("abc\\", 3, "lone backslash at the end, column 4 (write \\\\ for a backslash)"),
        ("a\\x", 1, "\\x needs exactly two hex digits, as in \\x0a, at column 2"),
        ("a\\x4", 1, "\\x needs exactly two hex digits, as in \\x0a, at column 2"),
        ("\\x4g", 0, "\\x needs exactly two hex digits, as in \\x0a, at column 1"),
        ("\\x٣٣", 0, "\\x needs exactly two hex digits, as in \\x0a, at column 1"),
        ("ok\\\\\\z", 4, "unknown escape '\\z' at column 5 (use \\r \\n \\t \\0 \\xNN or \\\\)"),
    ],
)
def test_escape_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(EncodeError) as caught:
        encode(text, Mode.ESCAPES)
    assert caught.value.position == position
    assert caught.value.message == message
    assert str(caught.value) == message


@pytest.mark.parametrize("mode", [Mode.TEXT, Mode.ESCAPES])
def test_lone_surrogate_is_an_encode_error(mode: Mode) -> None:
    with pytest.raises(EncodeError) as caught:
        encode("a\\tb\ud800", mode)
    assert caught.value.position == 4
    assert str(caught.value) == "cannot encode U+D800 at column 5 as UTF-8"


@pytest.mark.parametrize(
    "text", ["deadbeef", "de ad be ef", "DE AD\tBE\nEF", "d e a d b e e f", "  dEaDbEeF  "]
)
def test_hex(text: str) -> None:
    assert encode(text, Mode.HEX) == b"\xde\xad\xbe\xef"


def test_hex_ignores_line_ending() -> None:
    assert encode("0a", Mode.HEX, LineEnding.CRLF) == b"\n"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        (
            "abc",
            2,
            "hex needs an even number of digits, got 3 (the last one, at column 3, has no pair)",
        ),
        (
            "de a ",
            3,
            "hex needs an even number of digits, got 3 (the last one, at column 4, has no pair)",
        ),
        ("de:ad", 2, "not a hex digit: ':' at column 3 (hex mode takes 0-9, a-f and spaces)"),
        ("0xde", 1, "not a hex digit: 'x' at column 2 (hex mode takes 0-9, a-f and spaces)"),
        ("a٣", 1, "not a hex digit: '٣' at column 2 (hex mode takes 0-9, a-f and spaces)"),
        ("aa\0", 2, "not a hex digit: U+0000 at column 3 (hex mode takes 0-9, a-f and spaces)"),
    ],
)
def test_hex_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(EncodeError) as caught:
        encode(text, Mode.HEX)
    assert caught.value.position == position
    assert str(caught.value) == message


def test_to_escapes_spelling() -> None:
    data = b"a \\\r\n\t\0\x1b\x7f~\xff" + "é".encode()
    assert to_escapes(data) == "a \\\\\\r\\n\\t\\0\\x1b\\x7f~\\xff\\xc3\\xa9"


def test_to_hex_spelling() -> None:
    assert to_hex(b"\xde\xad\xbe\xef") == "de ad be ef"
    assert to_hex(b"") == ""


@given(st.binary())
def test_escapes_round_trip(data: bytes) -> None:
    assert encode(to_escapes(data), Mode.ESCAPES) == data


@given(st.binary())
def test_to_escapes_is_printable_ascii(data: bytes) -> None:
    assert all(0x20 <= ord(char) <= 0x7E for char in to_escapes(data))


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_text_respelled_as_escapes_sends_the_same_bytes(text: str) -> None:
    respelled = text_to_escapes(text)
    assert encode(respelled, Mode.ESCAPES) == encode(text, Mode.TEXT)
    assert not any(ord(char) < 0x20 or ord(char) == 0x7F for char in respelled)


@given(st.binary())
def test_hex_round_trip(data: bytes) -> None:
    assert encode(to_hex(data), Mode.HEX) == data


@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\\")),
    st.sampled_from(LineEnding),
)
def test_escapes_without_backslash_equals_text(text: str, line_ending: LineEnding) -> None:
    assert encode(text, Mode.ESCAPES, line_ending) == encode(text, Mode.TEXT, line_ending)


@given(_ANY_TEXT, st.sampled_from(Mode), st.sampled_from(LineEnding))
def test_encode_returns_bytes_or_raises_encode_error(
    text: str, mode: Mode, line_ending: LineEnding
) -> None:
    try:
        result = encode(text, mode, line_ending)
    except EncodeError as error:
        assert 0 <= error.position < len(text)
        assert "\n" not in str(error)
    else:
        assert isinstance(result, bytes)


def test_cycle_mode_visits_every_mode_and_wraps() -> None:
    assert cycle_mode(Mode.TEXT) is Mode.ESCAPES
    assert cycle_mode(Mode.ESCAPES) is Mode.HEX
    assert cycle_mode(Mode.HEX) is Mode.TEXT


def test_cycle_line_ending_visits_every_ending_and_wraps() -> None:
    assert cycle_line_ending(LineEnding.NONE) is LineEnding.LF
    assert cycle_line_ending(LineEnding.LF) is LineEnding.CRLF
    assert cycle_line_ending(LineEnding.CRLF) is LineEnding.NONE


@given(st.text(alphabet=_TRICKY))
def test_fast_unescape_agrees_with_the_careful_one(text: str) -> None:
    from workbench.codec import _unescape, _unescape_carefully

    def outcome(unescape: Callable[[str], bytes]) -> bytes | str:
        try:
            return unescape(text)
        except EncodeError as error:
            return f"{error.message} @{error.position}"

    assert outcome(_unescape) == outcome(_unescape_carefully)


@pytest.mark.parametrize(
    ("text", "mode", "ending", "expected"),
    [
        ("no breaks", Mode.TEXT, LineEnding.CRLF, codec.Paste("no breaks", Mode.TEXT)),
        ("de ad\nbe ef\n", Mode.HEX, LineEnding.LF, codec.Paste("de ad be ef ", Mode.HEX)),
        ("one line\n", Mode.TEXT, LineEnding.LF, codec.Paste("one line", Mode.TEXT)),
    ],
)
def test_a_paste_without_inner_breaks_goes_in_as_it_reads(
    text: str, mode: Mode, ending: LineEnding, expected: codec.Paste
) -> None:
    assert codec.spell_paste(text, mode, ending) == expected


def test_a_text_paste_with_breaks_is_spelled_for_escapes_sending_each_break_as_the_ending() -> None:
    pasted = codec.spell_paste("GET / HTTP/1.0\nHost: x\\y\n\n", Mode.TEXT, LineEnding.CRLF)
    assert pasted.mode is Mode.ESCAPES
    assert pasted.text == "GET / HTTP/1.0\\r\\nHost: x\\\\y\\r\\n"
    assert codec.encode(pasted.text, pasted.mode, LineEnding.CRLF) == (
        b"GET / HTTP/1.0\r\nHost: x\\y\r\n\r\n"
    )
    assert "3 lines" in pasted.note and "\\r\\n" in pasted.note
