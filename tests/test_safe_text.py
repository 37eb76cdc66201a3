"""Previews of untrusted bytes: hostile input stays inert, cuts are honest, layouts are exact."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len, get_character_cell_size

from workbench.codec import Mode, encode
from workbench.safe_text import (
    MAX_MARKS_PER_BASE,
    escape_bytes,
    hex_dump,
    hex_inline,
    is_mostly_text,
    is_shown_as_is,
)

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}

# Bytes that hit the interesting cases more often than uniform noise: escapes, multi-byte
# sequences (valid, cut and broken), C1 controls and bidi overrides.
_TRICKY_BYTES = st.lists(
    st.sampled_from(
        [b"\x1b[31m", b"\\", b"\r\n", b"\0", b"\x7f", "é日".encode(), b"\xe6\x97", b"\xc2\x9b"]
        + [b"\xe2\x80\xae", b"\xff", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"A"]
        # width traps: lone marks, a spacing mark, VS16, ZWJ, skin tone, filler, a trigram
        + [b"\xde\xad", "\u0301".encode(), "\u093e".encode(), "\ufe0f".encode(), b" "]
        + ["\u200d".encode(), "\U0001f3fd".encode(), "\u3164".encode(), "\u2630".encode()]
        + ["\u2764".encode(), "\U0001f44d".encode(), "\u0915".encode(), b"\n"]
    )
).map(b"".join)
_DATA = st.binary() | _TRICKY_BYTES | st.text().map(str.encode)
_LIMIT = st.none() | st.integers(min_value=0, max_value=64)


def _assert_inert(shown: str) -> None:
    for char in shown:
        code = ord(char)
        assert code >= 0x20 and code != 0x7F and not 0x80 <= code <= 0x9F, repr(char)
        assert unicodedata.category(char) not in _UNSAFE_CATEGORIES, repr(char)


def test_terminal_escape_sequences_are_spelled_out() -> None:
    shown = escape_bytes(b"\x1b[31mred\x1b]0;title\x07")
    assert shown == "\\x1b[31mred\\x1b]0;title\\x07"


def test_rich_markup_is_just_characters() -> None:
    assert escape_bytes(b"[bold red]x[/]") == "[bold red]x[/]"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\0b", "a\\0b"),
        (b"GET /\r\n\t", "GET /\\r\\n\\t"),
        (b"\x01\x7f", "\\x01\\x7f"),
        (b"back\\slash", "back\\\\slash"),
        (b"ok\xff\xfe", "ok\\xff\\xfe"),
        (b"\xe6\x97X", "\\xe6\\x97X"),
        ("café 日本".encode(), "café 日本"),
        ("a\u202eb".encode(), "a\\xe2\\x80\\xaeb"),
        (b"\xc2\x9b", "\\xc2\\x9b"),
        ("\u00a0\u2028".encode(), "\\xc2\\xa0\\xe2\\x80\\xa8"),
        (b"", ""),
    ],
)
def test_escape_bytes(data: bytes, expected: str) -> None:
    assert escape_bytes(data) == expected


def test_backslash_x_cannot_pass_for_a_byte() -> None:
    assert escape_bytes(b"\\x41") != escape_bytes(b"A")


def test_limit_cuts_input_bytes_and_counts_the_rest() -> None:
    assert escape_bytes(b"hello world", limit=5) == "hello … (+6 bytes)"
    assert escape_bytes(b"hello", limit=5) == "hello"
    assert escape_bytes(b"hello", limit=0) == "… (+5 bytes)"


def test_character_cut_by_limit_counts_as_cut() -> None:
    data = "a日本".encode()  # 1 + 3 + 3 bytes
    assert escape_bytes(data, limit=2) == "a … (+6 bytes)"
    assert escape_bytes(data, limit=4) == "a日 … (+3 bytes)"
    assert escape_bytes(data, limit=6) == "a日 … (+3 bytes)"


def test_truncated_character_at_the_real_end_is_shown_as_bytes() -> None:
    assert escape_bytes("a日".encode()[:-1]) == "a\\xe6\\x97"


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="limit"):
        escape_bytes(b"abc", limit=-1)


def test_one_megabyte_with_small_limit_is_quick() -> None:
    # Escaping all of this binary payload takes a noticeable fraction of a second per call;
    # looking only at the first 200 bytes takes microseconds.
    payload = b"\x1b\0\xff\x9b" * 262_144
    started = time.perf_counter()
    for _ in range(50):
        shown = escape_bytes(payload, limit=200)
    assert time.perf_counter() - started < 1.0
    assert shown.endswith(f" … (+{len(payload) - 200} bytes)")
    assert hex_inline(payload, limit=200).endswith(f" … (+{len(payload) - 200} bytes)")
    assert hex_dump(payload, limit=200)[-1] == f"… (+{len(payload) - 200} bytes)"


def test_hex_inline() -> None:
    assert hex_inline(b"\xde\xad\xbe\xef") == "de ad be ef"
    assert hex_inline(b"\xde\xad\xbe\xef", limit=3) == "de ad be … (+1 bytes)"
    assert hex_inline(b"") == ""


_TWENTY_BYTES = b"\xde\xad\xbe\xef\x00ABCDEFGHIJKLMNO"


def test_hex_dump_matches_hexdump_c() -> None:
    assert hex_dump(_TWENTY_BYTES) == [
        "00000000  de ad be ef 00 41 42 43  44 45 46 47 48 49 4a 4b  |.....ABCDEFGHIJK|",
        "00000010  4c 4d 4e 4f                                       |LMNO|",
    ]


def test_hex_dump_with_limit_and_narrow_width() -> None:
    assert hex_dump(_TWENTY_BYTES, width=4, limit=6) == [
        "00000000  de ad be ef  |....|",
        "00000004  00 41        |.A|",
        "… (+14 bytes)",
    ]


def test_hex_dump_of_nothing() -> None:
    assert hex_dump(b"") == []
    assert hex_dump(b"ab", limit=0) == ["… (+2 bytes)"]


def test_hex_dump_rejects_zero_width() -> None:
    with pytest.raises(ValueError, match="width"):
        hex_dump(b"ab", width=0)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", True),
        (b"hello\r\n\tworld", True),
        ("café 日本".encode(), True),
        ("日本".encode()[:-1], True),
        (b"0123456789\0", True),
        (b"01234567\0", False),
        (b"\x00\x01\x02abc", False),
        (b"hello \xff", False),
        ("日本".encode()[:-1] + b"x", False),
    ],
)
def test_is_mostly_text(data: bytes, expected: bool) -> None:
    assert is_mostly_text(data) is expected


@given(_DATA, _LIMIT)
def test_escape_bytes_is_inert(data: bytes, limit: int | None) -> None:
    _assert_inert(escape_bytes(data, limit))


@given(_DATA, _LIMIT)
def test_hex_inline_is_inert(data: bytes, limit: int | None) -> None:
    _assert_inert(hex_inline(data, limit))


@given(_DATA, _LIMIT, st.integers(min_value=1, max_value=32))
def test_hex_dump_is_inert(data: bytes, limit: int | None, width: int) -> None:
    for line in hex_dump(data, width, limit):
        _assert_inert(line)


@given(_DATA)
def test_escape_bytes_pastes_back_into_the_composer(data: bytes) -> None:
    assert encode(escape_bytes(data), Mode.ESCAPES) == data


@given(_DATA, st.integers(min_value=0, max_value=64))
def test_cut_count_adds_up(data: bytes, limit: int) -> None:
    shown = escape_bytes(data, limit)
    if limit >= len(data):
        assert shown == escape_bytes(data)
    else:
        visible, _, note = shown.rpartition("… (+")
        cut = int(note.removesuffix(" bytes)"))
        assert cut >= len(data) - limit
        assert encode(visible.removesuffix(" "), Mode.ESCAPES) + data[len(data) - cut :] == data


# An escape (always starting with a backslash, as a shown backslash is itself escaped) or one
# character shown as itself.
_TOKEN = re.compile(r"\\x[0-9a-f]{2}|\\[rnt0\\]|.", re.DOTALL)


def _assert_placeable(shown: str) -> None:
    """Every character drawn takes the 1 or 2 cells Rich measures, except combining marks,
    which sit on a character shown as itself (never on a space, an escape or nothing)."""
    marks = -1  # marks on the current base; -1 when there is no base
    for token in _TOKEN.findall(shown):
        if len(token) > 1:
            marks = -1
            continue
        if unicodedata.category(token) in {"Mn", "Me"}:
            assert 0 <= marks < MAX_MARKS_PER_BASE, f"mark without a base in {shown!r}"
            marks += 1
        else:
            assert get_character_cell_size(token) in (1, 2), f"{token!r} in {shown!r}"
            marks = -1 if token == " " else 0
    # and nothing shown changes the width of its neighbours (VS16, ZWJ sequences)
    assert cell_len(shown) == sum(get_character_cell_size(char) for char in shown)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xde\xad", "\\xde\\xad"),  # U+07AD, a lone combining mark
        (b"x: \xde\xad", "x: \\xde\\xad"),  # a space is no base
        (b"\n\xcc\x81", "\\n\\xcc\\x81"),  # nor is the n of an escape
        ("e\u0301".encode(), "e\u0301"),
        ("日\u0301".encode(), "日\u0301"),
        ("\u200b".encode(), "\\xe2\\x80\\x8b"),
        ("\u202e".encode(), "\\xe2\\x80\\xae"),
        ("a\u200db".encode(), "a\\xe2\\x80\\x8db"),
        ("\u2764\ufe0f".encode(), "\u2764\\xef\\xb8\\x8f"),
        ("\U0001f44d\U0001f3fd".encode(), "\U0001f44d\\xf0\\x9f\\x8f\\xbd"),
        ("\u0915\u093e".encode(), "\u0915\\xe0\\xa4\\xbe"),
        ("\u3164\u2630".encode(), "\\xe3\\x85\\xa4\\xe2\\x98\\xb0"),
    ],
)
def test_nothing_of_zero_or_uncertain_width_is_drawn_bare(data: bytes, expected: str) -> None:
    assert escape_bytes(data) == expected
    _assert_placeable(expected)


def test_marks_stack_only_so_high() -> None:
    data = ("e" + "\u0301" * (MAX_MARKS_PER_BASE + 2)).encode()
    kept = "e" + "\u0301" * MAX_MARKS_PER_BASE
    assert escape_bytes(data) == kept + "\\xcc\\x81" * 2


def test_quick_check_agrees_with_the_escaper() -> None:
    assert is_shown_as_is("café 日本")
    assert not is_shown_as_is("\u07ad") and not is_shown_as_is("a\u200bb")


@given(_DATA, _LIMIT)
def test_every_shown_character_has_a_place(data: bytes, limit: int | None) -> None:
    _assert_placeable(escape_bytes(data, limit))


@given(st.text())
def test_quick_check_never_passes_what_would_be_escaped(text: str) -> None:
    if is_shown_as_is(text):
        assert escape_bytes(text.encode()) == text
