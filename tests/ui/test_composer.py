"""The composer alone, driven through Textual's Pilot: encoding, refusals, history, safety."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.ui.helpers import ComposerApp
from workbench.codec import LineEnding, Mode
from workbench.ui.widgets.composer import HISTORY_LIMIT, NO_TARGET, Composer


def parts(app: ComposerApp) -> tuple[Composer, Input, Static]:
    composer = app.query_one(Composer)
    return composer, composer.input, composer.query_one("#composer-error", Static)


def shown(label: Static) -> str:
    """What the label draws, or "" while it is hidden."""
    return str(label.visual) if label.display else ""


async def send(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text, "enter")
    await pilot.pause()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mode", "ending", "typed", "expected"),
    [
        (Mode.TEXT, LineEnding.LF, "hello", b"hello\n"),
        (Mode.TEXT, LineEnding.CRLF, "hello", b"hello\r\n"),
        (Mode.TEXT, LineEnding.NONE, "hello", b"hello"),
        (Mode.ESCAPES, LineEnding.NONE, "a\\x00b\\r\\n", b"a\x00b\r\n"),
        (Mode.HEX, LineEnding.CRLF, "de ad be ef", b"\xde\xad\xbe\xef"),
        (Mode.TEXT, LineEnding.CRLF, "", b"\r\n"),
    ],
)
async def test_enter_sends_the_encoded_bytes(
    mode: Mode, ending: LineEnding, typed: str, expected: bytes
) -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, error = parts(app)
        composer.set_mode(mode)
        composer.line_ending = ending
        await send(pilot, typed)
        assert app.sent == [expected]
        assert field.value == ""
        assert shown(error) == ""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mode", "ending"), [(Mode.HEX, LineEnding.LF), (Mode.TEXT, LineEnding.NONE)]
)
async def test_enter_on_nothing_sends_nothing(mode: Mode, ending: LineEnding) -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, _, _ = parts(app)
        composer.set_mode(mode)
        composer.line_ending = ending
        await send(pilot, "")
        assert app.sent == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mode", "typed", "complaint", "fix"),
    [
        (Mode.HEX, "abc", "even number of digits", ("d",)),
        (Mode.ESCAPES, "x\\q", "unknown escape '\\q' at column 2", ("backspace", "n")),
    ],
)
async def test_invalid_input_is_flagged_and_kept(
    mode: Mode, typed: str, complaint: str, fix: tuple[str, ...]
) -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, error = parts(app)
        composer.set_mode(mode)
        await send(pilot, typed)
        assert app.sent == []
        assert field.value == typed
        assert field.has_class("-invalid")
        assert complaint in shown(error)
        assert "column" in shown(error)

        await pilot.press(*fix)
        await pilot.pause()
        assert not field.has_class("-invalid")
        assert shown(error) == ""


@pytest.mark.asyncio
async def test_invalid_input_stays_flagged_when_focus_leaves() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, _ = parts(app)
        composer.set_mode(Mode.HEX)
        await pilot.press(*"abc")
        field.blur()
        await pilot.pause()
        assert field.has_class("-invalid")


@pytest.mark.asyncio
async def test_switching_mode_revalidates_what_is_typed() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, error = parts(app)
        await pilot.press(*"zz")
        composer.cycle_mode()  # escapes: still fine
        composer.cycle_mode()  # hex: "z" is no hex digit
        await pilot.pause()
        assert composer.mode is Mode.HEX
        assert field.has_class("-invalid")
        assert "not a hex digit" in shown(error)
        assert field.placeholder == "hex bytes: de ad be ef"
        composer.cycle_mode()
        await pilot.pause()
        assert composer.mode is Mode.TEXT
        assert not field.has_class("-invalid")


@pytest.mark.asyncio
async def test_labels_show_mode_and_line_ending() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, _, _ = parts(app)
        mode = composer.query_one("#composer-mode", Static)
        ending = composer.query_one("#composer-ending", Static)
        assert (str(mode.visual), str(ending.visual)) == ("text", "LF")
        composer.cycle_line_ending()
        await pilot.pause()
        assert str(ending.visual) == "CRLF"
        composer.set_mode(Mode.HEX)
        await pilot.pause()
        assert (str(mode.visual), str(ending.visual)) == ("hex", "—")


@pytest.mark.asyncio
async def test_clicking_a_label_cycles_it() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, _, _ = parts(app)
        await pilot.click("#composer-mode")
        await pilot.click("#composer-ending")
        await pilot.pause()
        assert composer.mode is Mode.ESCAPES
        assert composer.line_ending is LineEnding.CRLF


@pytest.mark.asyncio
async def test_history_walks_back_and_restores_the_draft() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, _ = parts(app)
        await send(pilot, "one")
        await send(pilot, "two")
        await send(pilot, "two")  # a repeat is not remembered twice
        assert composer.history == ["one", "two"]
        await pilot.press(*"draft")
        seen = []
        for key in ("up", "up", "up", "down", "down", "down"):
            await pilot.press(key)
            seen.append(field.value)
        assert seen == ["two", "one", "one", "two", "draft", "draft"]
        assert field.cursor_position == len("draft")


@pytest.mark.asyncio
async def test_history_is_capped() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, _, _ = parts(app)
        composer.history = [str(n) for n in range(HISTORY_LIMIT)]
        await send(pilot, "newest")
        assert len(composer.history) == HISTORY_LIMIT
        assert composer.history[0] == "1"
        assert composer.history[-1] == "newest"


@pytest.mark.asyncio
async def test_no_target_sends_nothing_and_says_so() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer, field, error = parts(app)
        composer.can_send = False
        await send(pilot, "hello")
        assert app.sent == []
        assert field.value == "hello"
        assert shown(error) == NO_TARGET
        assert not field.has_class("-invalid")

        composer.can_send = True  # a target appeared: the notice is stale
        await pilot.pause()
        assert shown(error) == ""


@pytest.mark.asyncio
async def test_target_label_is_not_markup() -> None:
    app = ComposerApp()
    async with app.run_test(size=(100, 10)) as pilot:
        composer, _, _ = parts(app)
        composer.target_label = "→ [bold red]x[/] 127.0.0.1:5000"
        await pilot.pause()
        target = composer.query_one("#composer-target", Static)
        drawn = "".join(segment.text for segment in target.render_line(0))
        assert drawn.rstrip() == "→ [bold red]x[/] 127.0.0.1:5000"
