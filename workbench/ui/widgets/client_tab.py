"""One client session tab: where to connect, its state, and its own transcript."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Log, Static

from workbench.describe import (
    CONNECTING,
    address,
    clean,
    tab_line_count,
    tab_lines,
)
from workbench.events import Event
from workbench.ui.model import ConnectionView, human_bytes

TRANSCRIPT_LINES = 5000
TRANSCRIPT_CHARS = 1 << 20
"""Text a tab's transcript keeps, besides its line cap: about 1-4 MiB per tab whatever the peer
sends (a character takes 1 to 4 bytes). The event log keeps far more, recordings everything."""
BATCH_CHARS = 64 * 1024
"""Text rendered per batch at most: a flood of control bytes escapes at a few MB/s, and a
batch must not hold the screen up. What a burst brings beyond it is skipped, with a note."""


class Transcript(Log):
    """A tab's transcript: only the newest lines, within TRANSCRIPT_LINES and TRANSCRIPT_CHARS.

    Each batch renders its newest lines up to BATCH_CHARS; the lines of a burst beyond that
    are skipped with a note line where they were, so a flood costs no more than what is shown.
    ``dropped`` counts every line not kept, skipped or fallen off the top.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=TRANSCRIPT_LINES, **kwargs)  # type: ignore[arg-type]
        self._sizes: deque[int] = deque()  # characters per kept line, oldest first
        self._chars = 0
        self.dropped = 0

    @property
    def chars(self) -> int:
        """Characters of text the transcript holds."""
        return self._chars

    def add_traffic(self, events: Sequence[Event]) -> None:
        newest_first: list[list[str]] = []
        lines = chars = skipped = 0
        for event in reversed(events):
            if lines >= TRANSCRIPT_LINES or chars >= BATCH_CHARS:
                skipped += tab_line_count(event)
                continue
            rendered = tab_lines(event)
            newest_first.append(rendered)
            lines += len(rendered)
            chars += sum(map(len, rendered))
        if skipped:
            newest_first.append([f"  … {skipped:,} lines not shown (too many at once)"])
        added = [line for rendered in reversed(newest_first) for line in rendered]
        if not added:
            return
        self.dropped += skipped
        sizes = self._sizes
        sizes.extend(map(len, added))
        self._chars += sum(map(len, added))
        while len(sizes) > TRANSCRIPT_LINES or (self._chars > TRANSCRIPT_CHARS and len(sizes) > 1):
            self._chars -= sizes.popleft()
            self.dropped += 1
        self.max_lines = len(sizes)  # Log drops its oldest lines to match
        self.write_lines(added)


class ClientSession(Vertical):
    """Renders one client connection from the model; posts intents upward."""

    DEFAULT_CSS = """
    ClientSession { padding: 0 1; }
    ClientSession .row { height: 1; }
    ClientSession .client-host { width: 1fr; }
    ClientSession .client-port { width: 8; margin: 0 1; }
    ClientSession Button { margin-right: 1; min-width: 8; }
    ClientSession .connect { width: 12; }  /* "Disconnect" fits: a label change is no relayout */
    ClientSession .client-status { height: auto; max-height: 3; color: $text-muted; }
    ClientSession .client-status.-open { color: $text-success; }
    ClientSession .client-status.-error { color: $text-error; }
    ClientSession .client-file { height: 1; display: none; color: $text-accent; }
    ClientSession .client-file.-shown { display: block; }
    ClientSession Log { height: 1fr; background: $surface; }
    """

    class ConnectRequested(Message):
        def __init__(self, session: ClientSession, host: str, port: str) -> None:
            super().__init__()
            self.session = session
            self.host = host
            self.port = port

    class ActionRequested(Message):
        """Disconnect, half-close or reset the session's connection."""

        def __init__(self, session: ClientSession, action: str) -> None:
            super().__init__()
            self.session = session
            self.action = action

    def __init__(
        self, host: str = "127.0.0.1", port: str = "", *, number: int = 0, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._host, self._port = host, port
        self.number = number
        """The tab's place in the order tabs were opened: names it until it has a connection."""
        self.conn_id: int | None = None
        self.view: ConnectionView | None = None
        self._shown = ""
        self._file_shown = ""

    @property
    def title(self) -> str:
        """The tab's name: its connection id (as in the log) and target, unique among tabs.

        Fifty tabs to one server differ by their ids; a tab not connected yet by its number.
        """
        if self.view and self.view.id == self.conn_id and self.view.remote:
            target = str(self.view.remote)
        else:
            target = f"{self._host}:{self._port}" if self._port else "new client"
        if self.conn_id is not None:
            return f"#{self.conn_id} {target}"
        return f"tab {self.number} · {target}" if self.number else target

    @property
    def connected(self) -> bool:
        return self.view is not None and (self.view.alive or self.view.state == CONNECTING)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Input(self._host, placeholder="host", classes="client-host", compact=True)
            yield Input(self._port, placeholder="port", classes="client-port", compact=True)
            yield Button("Connect", classes="connect", compact=True, variant="primary")
        with Horizontal(classes="row"):
            yield Button("Half-close", classes="half-close", compact=True)
            yield Button("Reset", classes="reset", compact=True, variant="error")
        idle = Text("not connected — Connect (F8) to open a session")
        yield Static(idle, classes="client-status")
        yield Static(classes="client-file")
        yield Transcript(classes="transcript")

    def target(self) -> tuple[str, str]:
        host = self.query_one(".client-host", Input).value
        port = self.query_one(".client-port", Input).value
        self._host, self._port = host, port
        return host, port

    def request_connect_toggle(self) -> None:
        if self.connected:
            self.post_message(self.ActionRequested(self, "close"))
        else:
            self.post_message(self.ConnectRequested(self, *self.target()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.has_class("connect"):
            self.request_connect_toggle()
        elif event.button.has_class("half-close"):
            self.post_message(self.ActionRequested(self, "half-close"))
        elif event.button.has_class("reset"):
            self.post_message(self.ActionRequested(self, "reset"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.connected:
            self.request_connect_toggle()

    def show(self, view: ConnectionView) -> None:
        """Refresh state, counters, button label, and the error with its hint if any."""
        self.view = view
        status = self.query_one(".client-status", Static)
        status.set_classes("client-status")
        button = self.query_one(".connect", Button)
        label = "Disconnect" if self.connected else "Connect"
        if str(button.label) != label:
            button.label = label
        counters = f"in {human_bytes(view.bytes_in)} · out {human_bytes(view.bytes_out)}"
        where = f"{address(view.local)} → {address(view.remote)}"
        line = f"{view.state} · #{view.id} {where} · {counters}"
        if view.error is not None:
            status.add_class("-error")
            error = view.error
            line = f"{view.state}: {clean(error.message)}\n{clean(error.hint)}"
        elif view.backlog_note:
            status.add_class("-error")
            line += f"\n{view.backlog_note}"
        elif view.alive:
            status.add_class("-open")
        if dropped := self.query_one(Transcript).dropped:
            line += f"\ntranscript: newest lines only, {dropped:,} not kept"
        if line != self._shown:
            # A new layout costs a frame's worth of time; only a change of height needs one.
            relayout = self._rows(line, status) != self._rows(self._shown, status)
            self._shown = line
            status.update(Text(line), layout=relayout)

    @staticmethod
    def _rows(text: str, widget: Static) -> int:
        width = max(widget.content_size.width, 1)
        return sum(max(1, -(-len(part) // width)) for part in text.split("\n"))

    def show_file(self, line: str) -> None:
        """A file send on this tab's connection: its progress, or how it ended ('' hides it)."""
        if line == self._file_shown:
            return
        self._file_shown = line
        row = self.query_one(".client-file", Static)
        row.update(Text(line), layout=False)  # always one row: shown, or not displayed at all
        row.set_class(bool(line), "-shown")

    def add_traffic(self, events: Sequence[Event]) -> None:
        self.query_one(Transcript).add_traffic(events)

    def transcript(self) -> list[str]:
        return list(self.query_one(Transcript).lines)
