"""A modal that shows one event's payload in full: escaped text beside a hex dump.

Both panes are read-only ``TextArea``s, which draw only the visible lines and let people select
and copy. Only the first ``SHOWN_BYTES`` are laid out so a 10 MB payload opens instantly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from workbench.events import Error, Event
from workbench.preview import escape_bytes, hex_dump
from workbench.ui.event_store import clean, clock, detail, payload_of

SHOWN_BYTES = 64 * 1024
PIECE_BYTES = 256


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


def header(event: Event) -> str:
    """One line with everything the log row had to cut short, plus a failed operation's name."""
    data = payload_of(event)
    what = f"{event.kind} ({clean(event.operation)})" if isinstance(event, Error) else event.kind
    size = "" if data is None else f"  {len(data):,} bytes"
    return f"{clock(event.wall)}  #{event.conn}  {what}{size}  {detail(event)}"


class PayloadScreen(ModalScreen[None]):
    """Everything about one event; Escape goes back to the log."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

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

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        data = payload_of(self.event) or b""
        with Vertical(id="payload"):
            yield Static(header(self.event), markup=False, id="payload-header")
            if len(data) > SHOWN_BYTES:
                note = f"showing first 64 KiB of {len(data):,} bytes"
                yield Static(note, markup=False, id="payload-note")
            with Horizontal(id="payload-panes"):
                yield TextArea(read_only=True, id="payload-text")
                yield TextArea(read_only=True, soft_wrap=False, id="payload-hex")

    def on_mount(self) -> None:
        self.query_one("#payload-text", TextArea).focus()
        # Loading once the panes have their final size wraps the text once, not per layout pass.
        self.call_after_refresh(self._load)

    def _load(self) -> None:
        shown = (payload_of(self.event) or b"")[:SHOWN_BYTES]
        self.query_one("#payload-text", TextArea).load_text(escaped_lines(shown))
        self.query_one("#payload-hex", TextArea).load_text("\n".join(hex_dump(shown)))
