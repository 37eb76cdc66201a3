"""A megabyte in the composer costs a key no more than a word does: each key measures the piece
it lands in and draws the cells on screen, never the whole message; and what is drawn is what
is typed, a character to its cells, controls shown as symbols rather than sent to the terminal.

Timings live in ``tests/benchmarks/bigcomposer.py``; here the work itself is counted.
"""

from __future__ import annotations

import random

import pytest
from textual.widgets import Static
from textual.widgets import _input as textual_input

from tests.ui.helpers import ComposerApp, wait_until
from workbench import codec
from workbench.codec import EncodeError, LineEnding, Mode
from workbench.ui.widgets import composer as composer_module
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.composer_input import PIECE, CellRuns, ComposerInput, shown

MEGABYTE = 1_000_000
BODIES = {Mode.TEXT: "lorem ipsum ", Mode.ESCAPES: r"GET /\x41 HTTP/1.0\r\n", Mode.HEX: "de ad "}


def naive_cells(text: str) -> list[int]:
    """Cells before each index, measured the slow and obvious way."""
    cells = [0]
    for char in text:
        cells.append(cells[-1] + shown(char)[1])
    return cells


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", [Mode.TEXT, Mode.ESCAPES, Mode.HEX])
async def test_each_key_in_a_megabyte_measures_one_piece_and_draws_one_row(
    mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ComposerApp()
    async with app.run_test(size=(100, 10)) as pilot:
        composer = app.query_one(Composer)
        field = composer.input
        assert isinstance(field, ComposerInput)
        composer.set_mode(mode)
        field.value = (BODIES[mode] * (MEGABYTE // len(BODIES[mode]) + 1))[:MEGABYTE]
        field.cursor_position = 0
        field.cursor_position = len(field.value)  # a change of cursor scrolls to it
        await pilot.pause()
        assert field.render_line(0).text.rstrip().endswith(field.value[-20:].rstrip())

        # Textual's own Input measures the whole value with these; ours never calls them big.
        whole: list[int] = []
        for name in ("cell_len", "expand_tabs_inline"):
            original = getattr(textual_input, name)

            def counted(text: str, *args: int, original=original) -> object:  # type: ignore[no-untyped-def]
                if len(text) > PIECE:
                    whole.append(len(text))
                return original(text, *args)

            monkeypatch.setattr(textual_input, name, counted)
        measured, drawn = field.cells.measured, field.drawn
        typed = "abcdef0123"
        await pilot.press(*typed)
        field.cursor_position = len(field.value) // 2
        await pilot.press(*typed)
        keys = 2 * len(typed) + 1
        assert field.value.endswith("abcdef0123") and len(field.value) == MEGABYTE + 20
        assert whole == []
        # An edit re-measures its piece (two near a boundary) and finds the cursor in one.
        assert field.cells.measured - measured <= keys * 4 * PIECE
        # A frame looks at the characters of one row at most (a few frames per key).
        width = field.scrollable_content_region.width + 1
        assert 0 < field.drawn - drawn <= keys * 3 * width * 8
        assert field.cells.total == MEGABYTE + 20  # every character here takes one cell


@pytest.mark.asyncio
async def test_a_big_message_is_still_checked_when_typing_pauses_and_sent_whole() -> None:
    app = ComposerApp()
    async with app.run_test(size=(100, 10)) as pilot:
        composer = app.query_one(Composer)
        composer.set_mode(Mode.HEX)
        composer.input.value = "de ad " * (MEGABYTE // 6)
        composer.input.cursor_position = len(composer.input.value)
        await pilot.press("a")
        error = composer.query_one("#composer-error", Static)
        await wait_until(pilot, lambda: "even number" in str(error.visual), "the check")
        await pilot.press("b", "enter")
        assert app.sent == [b"\xde\xad" * (MEGABYTE // 6) + b"\xab"]
        assert composer.input.value == ""


def test_cell_widths_follow_every_kind_of_edit() -> None:
    """Random edits of mixed text (wide, marks, controls, tabs, lone surrogates) keep the pieces'
    widths equal to measuring the whole text from scratch."""
    rng = random.Random(11)
    alphabet = ["a", " ", "é", "日", "e\u0301", "\t", "\x1b", "\u202e", "\ud800", "\ufe0f"]
    alphabet.append("x" * 40)
    text = "".join(rng.choice(alphabet) for _ in range(3000))
    runs = CellRuns(text)
    for _ in range(300):
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 5, 2000]))
        inserted = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 1, 3, 1500])))
        text = text[:start] + inserted + text[end:]
        runs.edit(start, end, len(inserted), text)
        assert sum(runs.lengths) == len(text)
    cells = naive_cells(text)
    assert runs.total == cells[-1]
    for index in range(0, len(text) + 1, 37):
        assert runs.cell_of(index) == cells[index]
    for cell in range(0, cells[-1] + 2, 29):
        index, start = runs.index_at(cell)
        if index < len(text):
            assert start == cells[index] <= cell < cells[index] + shown(text[index])[1]
        else:
            assert start == cells[-1] <= cell


@pytest.mark.asyncio
async def test_controls_tabs_and_invisible_characters_show_as_one_cell_symbols() -> None:
    app = ComposerApp()
    async with app.run_test(size=(60, 10)) as pilot:
        composer = app.query_one(Composer)
        composer.input.value = "a\tb\x1b[31mc\u202ed\x7f日e\u0301"
        await pilot.pause()
        drawn = composer.input.render_line(0).text
        assert drawn.startswith("a␉b␛[31mc\ufffdd␡日e\u0301")
        assert "\x1b" not in drawn and "\t" not in drawn and "\u202e" not in drawn
        field = composer.input
        assert field._cursor_offset == len("a␉b␛[31mc�d␡") + 2 + 1 + 1  # 日 is two cells, é one
        await pilot.press("enter")
        assert app.sent == ["a\tb\x1b[31mc\u202ed\x7f日e\u0301\n".encode()]


@pytest.mark.asyncio
async def test_a_row_scrolled_into_a_wide_text_is_exactly_as_wide_as_the_input() -> None:
    app = ComposerApp()
    async with app.run_test(size=(61, 10)) as pilot:
        composer = app.query_one(Composer)
        field = composer.input
        width = field.scrollable_content_region.width + 1
        field.value = "日本語" * 20_000 + "end"
        await pilot.pause()
        for position in (30_001, len(field.value), 100, 0):
            field.cursor_position = position
            await pilot.pause()
            strip = field.render_line(0)
            assert strip.cell_length == width
            assert field.cursor_screen_offset.x - field.content_region.x < width
        field.cursor_position = len(field.value)
        await pilot.pause()
        assert field.render_line(0).text.rstrip().endswith("語end")


@pytest.mark.asyncio
async def test_a_click_in_a_scrolled_megabyte_puts_the_cursor_under_the_pointer() -> None:
    app = ComposerApp()
    async with app.run_test(size=(100, 10)) as pilot:
        field = app.query_one(Composer).input
        field.value = "".join(f"{n:07d}," for n in range(MEGABYTE // 8))
        field.cursor_position = 0
        field.cursor_position = len(field.value)
        await pilot.pause()
        start = int(field.scroll_offset.x)
        await pilot.click(ComposerInput, offset=(10, 0))
        assert field.cursor_position == start + 10
        assert composer_module.VALIDATE_AT_ONCE_LIMIT < len(field.value)


def outcome(call: object, *args: object) -> object:
    try:
        return call(*args)  # type: ignore[operator]
    except EncodeError as error:
        return (error.message, error.position)


@pytest.mark.parametrize(
    ("mode", "alphabet"),
    [
        (Mode.ESCAPES, ["a", "\\", "x", "4", "f", "g", "n", "r", "0", "q", "é", "\ud800", " "]),
        (Mode.HEX, ["d", "e", "a", "0", " ", "\t", "\x1c", "\u3000", "g", "é", "\n"]),
        (Mode.TEXT, ["a", "\\", "é", "\ud800", "\n"]),
    ],
)
def test_the_quick_check_finds_exactly_the_error_sending_would(
    mode: Mode, alphabet: list[str]
) -> None:
    """The check run while typing pauses (no bytes built) and the hex fast path agree with the
    careful readings on every short message: same verdict, same message, same column."""
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(9)))
        sent = outcome(codec.encode, text, mode, LineEnding.NONE)
        checked = outcome(codec.check, text, mode)
        assert checked == (sent if isinstance(sent, tuple) else None), text
        if mode is Mode.HEX:
            assert sent == outcome(codec._unhex_carefully, text), text
