"""The server pane: where to listen, whether we are, and a live table of accepted peers."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static
from textual.widgets.data_table import CellKey, RowKey

from workbench.ui.model import ConnectionView, ListenerView, human_bytes, human_duration

PEER_COLUMNS = ("id", "remote", "for", "in", "out", "state")
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
ROWS_PER_REFRESH = 250
"""New peer rows per pane refresh: about 20 ms of cell measuring in the frame that shows them."""


class PeerTable(DataTable[Text]):
    """The peers table, with a bulk ``remove_rows``.

    ``DataTable.remove_row`` renumbers every row after the one removed, so removing k of n
    rows costs k·n steps: 200 closed peers out of 1,200 rows took 330 ms in one frame. This
    does the same bookkeeping as ``remove_row`` (Textual 8) once for all of them;
    tests/hostile/test_memory_churn.py checks the table against ``remove_row``'s result.
    """

    def remove_rows(self, keys: Iterable[str]) -> None:
        doomed = {RowKey(key) for key in keys} & self.rows.keys()
        if not doomed:
            return
        locations = self._row_locations
        kept = sorted(
            (index, key)
            for key in locations
            if (index := locations.get(key)) is not None and key not in doomed
        )
        self._row_locations = TwoWayDict({key: row for row, (_, key) in enumerate(kept)})
        for key in doomed:
            for column in self._data[key]:
                self._updated_cells.discard(CellKey(key, column))
            del self.rows[key]
            del self._data[key]
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)


class ServerPane(Vertical):
    """Renders the listener and its peers from the session model; posts intents upward."""

    DEFAULT_CSS = """
    ServerPane { border: round $primary 60%; border-title-color: $text-primary; padding: 0 1; }
    ServerPane:focus-within { border: round $primary; }
    ServerPane .row { height: 1; }
    ServerPane #server-host { width: 1fr; }
    ServerPane #server-port { width: 8; margin-left: 1; }
    ServerPane Button { margin-right: 1; min-width: 8; }
    ServerPane #server-status { height: auto; max-height: 3; color: $text-muted; }
    ServerPane #server-status.-listening { color: $text-success; }
    ServerPane #server-status.-error { color: $text-error; }
    ServerPane #server-status.-warning { color: $text-warning; }
    ServerPane #peers { height: 1fr; }
    """

    BINDINGS = [
        Binding("c", "close_peer", "Close peer"),
        Binding("r", "reset_peer", "Reset peer (RST)"),
        Binding("a", "all_peers", "Send to all peers"),
    ]

    class ListenRequested(Message):
        def __init__(self, host: str, port: str) -> None:
            super().__init__()
            self.host = host
            self.port = port

    class StopRequested(Message):
        """Stop listening (peers stay connected)."""

    class EchoToggled(Message):
        def __init__(self, on: bool) -> None:
            super().__init__()
            self.on = on

    class PeerChosen(Message):
        """The user selected a peer: the composer should target it (None: all peers)."""

        def __init__(self, conn: int | None) -> None:
            super().__init__()
            self.conn = conn

    class PeerAction(Message):
        def __init__(self, conn: int, reset: bool) -> None:
            super().__init__()
            self.conn = conn
            self.reset = reset

    def __init__(self, host: str = "127.0.0.1", port: str = "0", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._host, self._port = host, port
        self.echo = False
        self.listening = False
        self.border_title = "Server"
        self._shown_status: tuple[str, str] | None = None
        self._unlisted: dict[int, ConnectionView] = {}  # insertion order: first come, first listed

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Input(self._host, placeholder="host", id="server-host", compact=True)
            yield Input(self._port, placeholder="port", id="server-port", compact=True)
        with Horizontal(classes="row"):
            yield Button("Listen", id="listen", compact=True, variant="primary")
            yield Button("Echo: off", id="echo", compact=True)
        yield Static(id="server-status")
        yield PeerTable(id="peers", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#peers", DataTable)
        for column in PEER_COLUMNS:
            table.add_column(column, key=column)
        self.show_listener(None)

    @property
    def selected_peer(self) -> int | None:
        table = self.query_one("#peers", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "listen":
            self.request_listen_toggle()
        elif event.button.id == "echo":
            self.echo = not self.echo
            event.button.label = f"Echo: {'on' if self.echo else 'off'}"
            self.post_message(self.EchoToggled(self.echo))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.listening:
            self.request_listen_toggle()

    def request_listen_toggle(self) -> None:
        if self.listening:
            self.post_message(self.StopRequested())
            return
        host = self.query_one("#server-host", Input).value
        port = self.query_one("#server-port", Input).value
        self.post_message(self.ListenRequested(host, port))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None and self.query_one("#peers").has_focus:
            self.post_message(self.PeerChosen(int(event.row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.PeerChosen(int(event.row_key.value)))

    def action_close_peer(self) -> None:
        if (peer := self.selected_peer) is not None:
            self.post_message(self.PeerAction(peer, reset=False))

    def action_reset_peer(self) -> None:
        if (peer := self.selected_peer) is not None:
            self.post_message(self.PeerAction(peer, reset=True))

    def action_all_peers(self) -> None:
        self.post_message(self.PeerChosen(None))

    def show_listener(self, view: ListenerView | None, live_peers: int = 0) -> None:
        """Status line and Listen/Stop button; errors keep their hint visible here."""
        self.listening = bool(view and view.listening)
        button = self.query_one("#listen", Button)
        label = "Stop" if self.listening else "Listen"
        if str(button.label) != label:
            button.label = label
        text, style = self._status(view, live_peers)
        if (text, style) == self._shown_status:
            return  # a status update costs a layout pass; in a flood it rarely changes
        self._shown_status = (text, style)
        status = self.query_one("#server-status", Static)
        status.set_classes(style)
        status.update(Text(text))

    @staticmethod
    def _status(view: ListenerView | None, live_peers: int) -> tuple[str, str]:
        """The status line's text and its class."""
        if view is None:
            return "not listening — Listen (F5) to start a server", ""
        if view.listening and view.local is not None:
            text = f"listening on {view.local} · {live_peers} peer{'s' * (live_peers != 1)}"
            if view.local.host in WILDCARD_HOSTS:
                text += "\n⚠ open to every network interface: other machines can connect"
                return text, "-warning"
            return text, "-listening"
        if view.error is not None:
            return f"{view.error.message}\n{view.error.hint}", "-error"
        return "stopped listening — peers stay until closed", ""

    def show_peers(self, peers: list[ConnectionView], now: float) -> bool:
        """Add or refresh the given peers' rows (only those that changed, or all for ticks).

        At most ROWS_PER_REFRESH new rows are added per call, because the table measures
        every cell of a new row in the next frame: a thousand peers arriving at once cost
        one frame of a tenth of a second, during which keys waited. Returns True while
        peers wait to be listed; the caller calls again soon.
        """
        table = self.query_one("#peers", DataTable)
        for peer in peers:
            key = str(peer.id)
            if key in table.rows:
                _update_cells(table, key, zip(PEER_COLUMNS, self._cells(peer, now), strict=True))
            else:
                self._unlisted.setdefault(peer.id, peer)
        for _ in range(min(ROWS_PER_REFRESH, len(self._unlisted))):
            peer = self._unlisted.pop(next(iter(self._unlisted)))
            table.add_row(*self._cells(peer, now), key=str(peer.id))
        return bool(self._unlisted)

    def forget_peers(self, ids: Iterable[int], forgotten: int) -> None:
        """Remove the rows of closed peers the model forgot, and say how many it forgot.

        Only the newest closed peers keep a row (see ``CLOSED_KEPT``); their events stay in
        the event log, which is where the subtitle points.
        """
        keys = []
        for conn in ids:
            self._unlisted.pop(conn, None)
            keys.append(str(conn))
        self.query_one("#peers", PeerTable).remove_rows(keys)
        peers = f"{forgotten:,} closed peer{'s' * (forgotten != 1)}"
        subtitle = f"{peers} dropped from the table · see the log" if forgotten else None
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def show_durations(self, peers: list[ConnectionView], now: float) -> None:
        """The clock's tick: only the time-connected column moves without events.

        Rewriting whole rows each second cost a thousand peers 60 ms of the event loop.
        """
        table = self.query_one("#peers", DataTable)
        for peer in peers:
            key = str(peer.id)
            if key in table.rows:
                _update_cells(table, key, [("for", _duration_cell(peer, now))])

    @staticmethod
    def _cells(peer: ConnectionView, now: float) -> tuple[Text, ...]:
        if peer.backlog_note:
            state = Text(f"behind ({human_bytes(peer.pending)} waiting)")
        else:
            state = Text(peer.state, style="dim" if not peer.alive else "")
        return (  # Text, not str: str cells are parsed as markup, and measured slower
            Text(f"#{peer.id}"),
            Text(str(peer.remote)),
            _duration_cell(peer, now),
            Text(human_bytes(peer.bytes_in)),
            Text(human_bytes(peer.bytes_out)),
            state,
        )


def _duration_cell(peer: ConnectionView, now: float) -> Text:
    return Text(human_duration(peer.duration(now)))


def _update_cells(table: DataTable[Text], key: str, cells: Iterable[tuple[str, Text]]) -> None:
    """Only the cells that differ: every update makes the table re-render all its rows."""
    for column, value in cells:
        shown = table.get_cell(key, column)
        if shown.plain != value.plain or shown.style != value.style:
            table.update_cell(key, column, value)
