"""A modal that shows one event's payload in full: escaped text beside a hex dump, a page at a time.

Both panes are read-only ``TextArea``s, which draw only the visible lines and let people select
and copy. A payload is laid out ``PAGE_BYTES`` at a time: whatever its size, opening the view or
turning a page escapes and dumps one page and no more, so a 10 MB payload pages as fast as a
small one. Pages start at fixed byte offsets (the status line names them exactly), so a UTF-8
character cut by a page boundary shows as ``\\xNN`` escapes on both sides, as the bytes it is.

The bytes come from a ``PayloadSource``: the event's own ``bytes``, or a ``read_at(offset,
length)`` callable with the total size, for payloads that live in a file and are read on
demand. Either way the screen asks for one page at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from workbench.describe import clean, clock, detail, payload_of
from workbench.events import Event
from workbench.safe_text import escape_bytes, hex_dump

PAGE_BYTES = 64 * 1024
"""Bytes laid out at once; a page of hex is 4,096 lines, which TextArea loads in a blink."""
PIECE_BYTES = 256
PAGE_KEYS = "n/p page · g/G first/last"

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)``: up to ``length`` bytes of the payload from ``offset``."""
PayloadSource = bytes | ReadAt


def escaped_lines(data: bytes) -> str:
    """Escaped text that breaks where the payload has newlines, so protocols stay legible.

    Each real newline keeps its visible ``\\n``. Long runs are also broken every
    ``PIECE_BYTES`` (without a ``\\n``, at a UTF-8 boundary) because TextArea redraws a whole
    document line for every wrapped row of it.
    """
    return "\\n\n".join(
        "\n".join(escape_bytes(piece) for piece in _pieces(line)) for line in data.split(b"\n")
    )


def _pieces(line: bytes) -> Iterator[bytes]:
    start = 0
    while len(line) - start > PIECE_BYTES:
        cut = start + PIECE_BYTES
        while cut > start + PIECE_BYTES - 3 and line[cut] & 0xC0 == 0x80:
            cut -= 1  # never split a character in two
        yield line[start:cut]
        start = cut
    yield line[start:]


def hex_lines(data: bytes, offset: int) -> str:
    """``hex_dump`` of ``data`` with offsets counted from ``offset``, where the page starts."""
    lines = hex_dump(data)
    if offset:
        lines = [f"{offset + row * 16:08x}{line[8:]}" for row, line in enumerate(lines)]
    return "\n".join(lines)


def page_status(page: int, size: int) -> str:
    """Which bytes a page shows, numbered as offsets from 0: ``bytes 65,536–131,071 of 172,032``."""
    first = page * PAGE_BYTES
    last = min(first + PAGE_BYTES, size) - 1
    pages = page_count(size)
    return (
        f"bytes {first:,}–{last:,} of {size:,}  ·  page {page + 1:,} of {pages:,}  ·  {PAGE_KEYS}"
    )


def page_count(size: int) -> int:
    return max(1, -(-size // PAGE_BYTES))


def header(event: Event, size: int | None = None) -> str:
    """One line with everything the log row had to cut short (the row's words in full)."""
    if size is None:
        data = payload_of(event)
        size = None if data is None else len(data)
    shown = "" if size is None else f"  {size:,} bytes"
    return f"{clock(event.wall)}  #{event.conn}  {event.kind}{shown}  {detail(event)}"


class PayloadScreen(ModalScreen[None]):
    """Everything about one event, a page of its payload at a time; Escape goes back to the log.

    ``payload`` defaults to the event's own bytes; a ``read_at`` callable needs ``size``.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        # TextArea keeps PageUp/PageDown for scrolling within a page; it lets letters through.
        Binding("n,ctrl+pagedown", "page(1)", "Next page", show=False),
        Binding("p,ctrl+pageup", "page(-1)", "Previous page", show=False),
        Binding("g,ctrl+home", "first_page", "First page", show=False),
        Binding("G,ctrl+end", "last_page", "Last page", show=False),
    ]

    DEFAULT_CSS = """
    PayloadScreen {
        align: center middle;
        #payload {
            width: 96%;
            height: 92%;
            border: thick $primary;
            background: $surface;
        }
        #payload-header { text-style: bold; padding: 0 1; }
        #payload-note { color: $text-warning; padding: 0 1; }
        #payload-panes { height: 1fr; }
        #payload-panes TextArea { overflow-y: scroll; }
        #payload-text { width: 1fr; }
        #payload-hex { width: 84; max-width: 60%; }
    }
    """

    def __init__(
        self, event: Event, payload: PayloadSource | None = None, size: int | None = None
    ) -> None:
        super().__init__()
        self.event = event
        if payload is None:
            payload = payload_of(event) or b""
        if isinstance(payload, bytes):
            size = len(payload) if size is None else min(size, len(payload))
        elif size is None:
            raise ValueError("a read_at payload needs its size")
        self._payload = payload
        self.payload_size = max(0, size)
        self.page = 0
        """The page shown, counted from 0."""

    @property
    def pages(self) -> int:
        return page_count(self.payload_size)

    def compose(self) -> ComposeResult:
        with Vertical(id="payload"):
            yield Static(header(self.event, self._header_size()), markup=False, id="payload-header")
            note = Static("", markup=False, id="payload-note")
            note.display = self.pages > 1
            yield note
            with Horizontal(id="payload-panes"):
                yield TextArea(read_only=True, id="payload-text")
                yield TextArea(read_only=True, soft_wrap=False, id="payload-hex")

    def _header_size(self) -> int | None:
        if payload_of(self.event) is None and isinstance(self._payload, bytes):
            return None  # an event without a payload: no size to speak of
        return self.payload_size

    def on_mount(self) -> None:
        self.query_one("#payload-text", TextArea).focus()
        # Loading once the panes have their final size wraps the text once, not per layout pass.
        self.call_after_refresh(self._load)

    def action_page(self, step: int) -> None:
        self._show(self.page + step)

    def action_first_page(self) -> None:
        self._show(0)

    def action_last_page(self) -> None:
        self._show(self.pages - 1)

    def _show(self, page: int) -> None:
        page = max(0, min(page, self.pages - 1))
        if page != self.page:
            self.page = page
            self._load()

    def read_page(self) -> tuple[bytes, str]:
        """The shown page's bytes, and a note when they could not all be read."""
        offset = self.page * PAGE_BYTES
        length = min(PAGE_BYTES, self.payload_size - offset)
        if isinstance(self._payload, bytes):
            return self._payload[offset : offset + length], ""
        try:
            data = self._payload(offset, length)
        except (OSError, ValueError) as error:
            return b"", f"  ·  could not read this page: {clean(str(error))}"
        data = bytes(data[:length])  # a reader handing back more than asked is cut, not trusted
        if len(data) < length:
            return data, f"  ·  only {len(data):,} of {length:,} bytes could be read"
        return data, ""

    def _load(self) -> None:
        data, problem = self.read_page()
        offset = self.page * PAGE_BYTES
        self.query_one("#payload-text", TextArea).load_text(escaped_lines(data))
        self.query_one("#payload-hex", TextArea).load_text(hex_lines(data, offset))
        note = self.query_one("#payload-note", Static)
        if self.pages > 1 or problem:
            note.update(page_status(self.page, self.payload_size) + problem)
            note.display = True
