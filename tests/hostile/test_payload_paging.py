"""The payload view shows all of a big chunk, a page at a time, as inert text: every byte of a
172 KB read can be reached, the status says which bytes are on screen, and a page turn lays
out one page whatever the payload's size."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest
from textual.widgets import Static, TextArea

from tests.ui.helpers import LogApp, received, wait_until
from workbench.events import Address, Received
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens import payload as payload_module
from workbench.ui.screens.payload import PAGE_BYTES, PayloadScreen
from workbench.ui.widgets.event_log import EventLog

pytestmark = pytest.mark.asyncio
SIZE = 172_032  # 2.625 pages of 64 KiB


def numbered(size: int) -> bytes:
    """Bytes that say where they are: each 16-byte line starts with its own offset."""
    lines = (f"{offset:015d}\n".encode() for offset in range(0, size, 16))
    return b"".join(lines)[:size]


def panes(screen: PayloadScreen) -> tuple[str, str, str]:
    text = screen.query_one("#payload-text", TextArea).text
    hex_text = screen.query_one("#payload-hex", TextArea).text
    note = screen.query_one("#payload-note", Static)
    return text, hex_text, str(note.render()) if note.display else ""


def status_of(app: LogApp) -> str:
    """The shown view's status line, or "" before the view is built."""
    screen = app.screen
    if not isinstance(screen, PayloadScreen) or not screen.query("#payload-hex"):
        return ""
    return panes(screen)[2]


def hex_of(app: LogApp) -> str:
    screen = app.screen
    if not isinstance(screen, PayloadScreen) or not screen.query("#payload-hex"):
        return ""
    return panes(screen)[1]


async def test_a_172_kb_chunk_pages_through_to_its_last_bytes_with_exact_byte_numbers() -> None:
    data = numbered(SIZE)
    app = LogApp()
    async with app.run_test(size=(140, 40)) as pilot:
        app.query_one(EventLog).add_events([received(1, data)])
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PayloadScreen)
        text, hex_text, status = panes(screen)
        assert status.startswith("bytes 0–65,535 of 172,032  ·  page 1 of 3")
        assert text.startswith("000000000000000\\n\n000000000000016\\n")
        assert hex_text.startswith("00000000  30 30 30")
        await pilot.press("n")
        text, hex_text, status = panes(screen)
        assert status.startswith("bytes 65,536–131,071 of 172,032  ·  page 2 of 3")
        assert text.startswith("000000000065536\\n")  # the page starts where it says it does
        assert hex_text.startswith("00010000  30 30 30")  # and the hex offsets are the real ones
        await pilot.press("n", "n")  # past the end stays on the last page
        text, hex_text, status = panes(screen)
        assert status.startswith("bytes 131,072–172,031 of 172,032  ·  page 3 of 3")
        assert text.endswith("000000000172016\\n\n")  # the very last line of the chunk
        assert hex_text.splitlines()[-1].startswith("00029ff0  30 30 30")
        assert len(hex_text.splitlines()) == (SIZE - 2 * PAGE_BYTES) // 16
        await pilot.press("p")
        assert panes(screen)[2].startswith("bytes 65,536–131,071 of 172,032")
        await pilot.press("g")
        assert panes(screen)[2].startswith("bytes 0–65,535 of")
        await pilot.press("G")
        assert panes(screen)[2].startswith("bytes 131,072–172,031 of")
        await pilot.press("ctrl+home")
        assert panes(screen)[2].startswith("bytes 0–65,535 of")
        await pilot.press("ctrl+end")
        assert panes(screen)[2].startswith("bytes 131,072–172,031 of")
        await pilot.press("escape")
        assert not isinstance(app.screen, PayloadScreen)


async def test_a_chunk_read_from_a_real_peer_can_be_paged_to_its_end() -> None:
    data = numbered(SIZE)

    async def send_it(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(send_it, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(connect=[Address("127.0.0.1", port)])
        async with app.run_test(size=(140, 40)) as pilot:
            log = app.query_one(EventLog)

            def reads() -> list[Received]:
                return [e for e in log.store.view() if isinstance(e, Received)]

            await wait_until(pilot, lambda: sum(len(e.data) for e in reads()) == SIZE, "it all")
            assert b"".join(e.data for e in reads()) == data
            biggest = max(reads(), key=lambda e: len(e.data))
            row = next(
                row
                for row in range(log.store.visible_count)
                if log.store.event_at(log.store.position_of(row)) is biggest
            )
            log.focus()
            await pilot.press("home", *["down"] * row, "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, PayloadScreen), "the view")
            screen = app.screen
            assert isinstance(screen, PayloadScreen) and screen.event is biggest
            await pilot.press("G")
            await pilot.pause()
            _, hex_text, _ = panes(screen)
            size = len(biggest.data)
            last = hex_text.splitlines()[-1]
            assert last.startswith(f"{(size - 1) // 16 * 16:08x}")
            assert biggest.data[-1:].hex() in last.split("|")[0].split()[-1]
            if size > PAGE_BYTES:
                last_page = (size - 1) // PAGE_BYTES
                first = f"{last_page * PAGE_BYTES:,}"
                assert panes(screen)[2].startswith(f"bytes {first}–{size - 1:,} of {size:,}")
    finally:
        server.close()
        await server.wait_closed()


async def test_each_key_lays_out_one_page_and_reads_only_that_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 10 * 1024 * 1024 + 123
    reads: list[tuple[int, int]] = []
    laid_out: list[int] = []

    def read_at(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return bytes([offset // PAGE_BYTES % 256]) * length

    escaped = payload_module.escaped_lines

    def counted(data: bytes) -> str:
        laid_out.append(len(data))
        return escaped(data)

    monkeypatch.setattr(payload_module, "escaped_lines", counted)
    app = LogApp()
    event = received(1, b"")
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(PayloadScreen(event, read_at, size))
        await wait_until(pilot, lambda: bool(reads), "the first page")
        screen = app.screen
        assert isinstance(screen, PayloadScreen)
        assert "10,485,883 bytes" in str(screen.query_one("#payload-header", Static).render())
        await pilot.press("n", "G", "p", "g")
        last = (size - 1) // PAGE_BYTES
        assert reads == [
            (0, PAGE_BYTES),
            (PAGE_BYTES, PAGE_BYTES),
            (last * PAGE_BYTES, size - last * PAGE_BYTES),
            ((last - 1) * PAGE_BYTES, PAGE_BYTES),
            (0, PAGE_BYTES),
        ]
        assert laid_out == [length for _, length in reads]
        assert panes(screen)[2].startswith("bytes 0–65,535 of 10,485,883  ·  page 1 of 161")


async def test_escaped_pages_never_show_markup_controls_or_lone_marks() -> None:
    hostile = b"\x1b[31m[bold red]boom[/]\x1b]0;title\x07\xde\xad\xe2\x80\xae\x00\xff\r\n"
    # A multi-byte character cut in two by the page boundary shows as its bytes on both pages.
    data = b"a" * (PAGE_BYTES - 1) + "é".encode() + hostile * 500
    app = LogApp()
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(PayloadScreen(received(1, data)))
        await wait_until(pilot, lambda: bool(hex_of(app)), "the first page")
        screen = app.screen
        assert isinstance(screen, PayloadScreen)
        first, _, _ = panes(screen)
        assert first.endswith("a\\xc3")
        await pilot.press("n")
        text, hex_text, _ = panes(screen)
        assert text.startswith(
            "\\xa9\\x1b[31m[bold red]boom[/]\\x1b]0;title\\x07\\xde\\xad\\xe2\\x80\\xae"
        )
        for shown in (text, hex_text):
            for line in shown.splitlines():
                assert line.isprintable(), line
                assert not any(unicodedata.category(char)[0] == "M" for char in line), line
        # Drawn as typed: the markup is on screen literally, not as red bold text.
        region = screen.query_one("#payload-text", TextArea)
        drawn = "".join(region.render_line(y).text for y in range(region.size.height))
        assert "[boldred]boom[/]" in "".join(drawn.split())  # wrapped rows, joined up again
        assert drawn.isprintable()


async def test_a_reader_that_fails_or_comes_up_short_says_so_instead_of_crashing() -> None:
    def failing(offset: int, length: int) -> bytes:
        if offset:
            raise OSError("the recording went away")
        return b"x" * (length // 2)

    app = LogApp()
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(PayloadScreen(received(1, b""), failing, 3 * PAGE_BYTES))
        await wait_until(pilot, lambda: "could be read" in status_of(app), "the note")
        screen = app.screen
        assert isinstance(screen, PayloadScreen)
        assert "only 32,768 of 65,536 bytes could be read" in panes(screen)[2]
        await pilot.press("n")
        text, hex_text, status = panes(screen)
        assert "could not read this page: the recording went away" in status
        assert (text, hex_text) == ("", "")
        assert isinstance(app.screen, PayloadScreen)
