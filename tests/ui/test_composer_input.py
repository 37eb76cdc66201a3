"""What is typed or pasted in the composer is what a real peer receives: every pasted line,
and each Enter sending exactly what was typed before it, however fast the keys arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ui.helpers import wait_until
from workbench.codec import LineEnding, Mode
from workbench.events import Address
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.composer import Composer

pytestmark = pytest.mark.asyncio


class Peer:
    """A real TCP peer on 127.0.0.1 that keeps every byte it receives."""

    def __init__(self) -> None:
        self.received = bytearray()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            self.received += chunk
        writer.close()


@asynccontextmanager
async def app_sending_to_a_peer(
    mode: Mode, ending: LineEnding
) -> AsyncIterator[tuple[WorkbenchApp, Pilot[None], Composer, Peer]]:
    peer = Peer()
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(connect=[Address("127.0.0.1", port)])
        async with app.run_test(size=(120, 30)) as pilot:
            session = app.active_session()
            assert session is not None
            await wait_until(pilot, lambda: session.view is not None and session.view.alive, "up")
            composer = app.query_one(Composer)
            await wait_until(pilot, lambda: composer.can_send, "the composer to target the tab")
            composer.mode, composer.line_ending = mode, ending
            composer.focus_input()
            await pilot.pause()
            yield app, pilot, composer, peer  # type: ignore[misc]
    finally:
        server.close()
        await server.wait_closed()


def burst(app: WorkbenchApp, keys: list[str]) -> None:
    """Deliver ``keys`` the way one read from a terminal does: all queued before any is handled
    (``pilot.press`` waits for the app to go idle after each key, which hides ordering bugs)."""
    for key in keys:
        named = {"enter": "\r", "backspace": "\x7f", "home": None, "greater_than_sign": ">"}
        event = events.Key(key, key if len(key) == 1 else named[key])
        event.set_sender(app)
        app.post_message(event)


async def paste(pilot: Pilot[None], composer: Composer, text: str) -> None:
    composer.input.post_message(events.Paste(text))
    await pilot.pause()


async def test_a_pasted_http_request_reaches_the_peer_line_for_line_with_crlf() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.CRLF) as (_, pilot, composer, peer):
        await paste(pilot, composer, "GET / HTTP/1.0\nHost: x\n\n")
        # Shown as escapes, so every byte to be sent is on screen, and still editable.
        assert composer.mode is Mode.ESCAPES
        assert composer.input.value == r"GET / HTTP/1.0\r\nHost: x\r\n"
        note = composer.query_one("#composer-error", Static)
        assert note.display and "pasted 3 lines" in str(note.visual) and r"\r\n" in str(note.visual)
        await pilot.press("enter")
        expected = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
        await wait_until(pilot, lambda: bytes(peer.received) == expected, "the whole request")
        assert composer.input.value == ""
        assert not note.display  # the note is about the paste, gone once it is sent


async def test_pasted_line_breaks_of_any_kind_become_the_chosen_line_ending() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.LF) as (_, pilot, composer, peer):
        await pilot.press(*"a\\b ")  # typed before the paste, kept byte for byte
        await paste(pilot, composer, "one\r\ntwo\rthree\nfour")
        assert composer.input.value == r"a\\b one\ntwo\nthree\nfour"
        await pilot.press("enter")
        expected = b"a\\b one\ntwo\nthree\nfour\n"
        await wait_until(pilot, lambda: bytes(peer.received) == expected, "every line")


async def test_a_single_pasted_line_stays_text_and_its_trailing_break_is_the_enter() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.CRLF) as (_, pilot, composer, peer):
        await paste(pilot, composer, "hello \\ world\n")
        assert composer.mode is Mode.TEXT
        assert composer.input.value == "hello \\ world"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bytes(peer.received) == b"hello \\ world\r\n", "a line")


async def test_with_no_line_ending_pasted_breaks_are_kept_as_pasted() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.NONE) as (_, pilot, composer, peer):
        await paste(pilot, composer, "a\r\nb\n")
        assert composer.input.value == r"a\r\nb\n"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bytes(peer.received) == b"a\r\nb\n", "as pasted")


async def test_pasting_into_hex_mode_reads_line_breaks_as_spaces() -> None:
    async with app_sending_to_a_peer(Mode.HEX, LineEnding.LF) as (_, pilot, composer, peer):
        await paste(pilot, composer, "de ad\nbe ef\n")
        assert composer.mode is Mode.HEX
        await pilot.press("enter")
        await wait_until(pilot, lambda: bytes(peer.received) == b"\xde\xad\xbe\xef", "hex")


async def test_each_enter_in_a_fast_burst_sends_what_was_typed_before_it() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.LF) as (app, pilot, composer, peer):
        burst(app, [*"msg1", "enter", *"msg2", "enter", *"msg3", "enter"])
        expected = b"msg1\nmsg2\nmsg3\n"
        await wait_until(pilot, lambda: bytes(peer.received) == expected, "three messages")
        assert composer.history[-3:] == ["msg1", "msg2", "msg3"]


async def test_editing_keys_in_a_burst_apply_where_they_were_pressed() -> None:
    async with app_sending_to_a_peer(Mode.TEXT, LineEnding.LF) as (app, pilot, composer, peer):
        keys = [*"abX", "backspace", "c", "home", "greater_than_sign", "enter", *"next", "enter"]
        burst(app, keys)
        await wait_until(pilot, lambda: bytes(peer.received) == b">abc\nnext\n", "edited")


async def test_a_big_message_is_checked_when_typing_pauses_not_on_every_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.ui.helpers import ComposerApp
    from workbench.ui.widgets import composer as composer_module

    checks: list[int] = []
    encode, check = composer_module.codec.encode, composer_module.codec.check

    def counted(text: str, mode: Mode, ending: LineEnding = LineEnding.NONE) -> bytes:
        checks.append(len(text))
        return encode(text, mode, ending)

    def counted_check(text: str, mode: Mode) -> None:
        checks.append(len(text))
        check(text, mode)

    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.set_mode(Mode.ESCAPES)
        big = "a" * (composer_module.VALIDATE_AT_ONCE_LIMIT + 1000)
        composer.input.value = big + r"\q"  # an unknown escape at the very end
        composer.input.cursor_position = len(big)
        await pilot.pause()
        monkeypatch.setattr(composer_module.codec, "encode", counted)
        monkeypatch.setattr(composer_module.codec, "check", counted_check)
        await pilot.press(*"0123456789")
        assert len(checks) <= 3, "each key re-checked the whole message"
        error = composer.query_one("#composer-error", Static)
        await wait_until(pilot, lambda: "unknown escape" in str(error.visual), "the check")
        assert composer.input.has_class("-invalid")
        await pilot.press("enter")  # Enter checks at once, whatever the size
        assert app.sent == [] and composer.input.value.endswith(r"0123456789\q")
