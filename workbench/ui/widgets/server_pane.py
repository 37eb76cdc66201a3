"""The server pane: where to listen, whether we are, and a live table of accepted peers."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from workbench.describe import clean
from workbench.events import Address
from workbench.ui.model import ConnectionView, ListenerView
from workbench.ui.widgets.peer_table import PeerTable

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


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
        Binding("e", "toggle_echo", "Echo on/off"),
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
        """The user selected a peer: the composer should target it (None: all peers).

        ``confirmed``: chosen with Enter, not just highlighted: the user is done choosing.
        """

        def __init__(self, conn: int | None, *, confirmed: bool = False) -> None:
            super().__init__()
            self.conn = conn
            self.confirmed = confirmed

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

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Input(self._host, placeholder="host", id="server-host", compact=True)
            yield Input(self._port, placeholder="port", id="server-port", compact=True)
        with Horizontal(classes="row"):
            # Out of the Tab order: Enter pressed Stop by accident on the way to the peers.
            # Their keys are F5 and e (in the peers table); the mouse still clicks them.
            yield _unfocusable(Button("Listen", id="listen", compact=True, variant="primary"))
            yield _unfocusable(Button("Echo: off", id="echo", compact=True))
        yield Static(id="server-status")
        yield PeerTable(id="peers")

    def on_mount(self) -> None:
        self.show_listener(None)

    @property
    def selected_peer(self) -> int | None:
        return self.query_one("#peers", PeerTable).cursor_peer

    def focus_peers(self) -> bool:
        """Move to the peers table, on the row the cursor is on; False if it has no rows."""
        if self.selected_peer is None:
            return False
        self.query_one("#peers").focus()
        return True

    def show_bound(self, address: Address) -> None:
        """Put the address really bound in the fields (the real port when 0 was asked; an IPv6
        host without brackets), so that F5 after a stop listens again on the same address."""
        self.query_one("#server-host", Input).value = address.host
        self.query_one("#server-port", Input).value = str(address.port)

    def show_starting(self, where: str) -> None:
        """Between the request and the Listening event: F5 now neither listens nor stops."""
        self._shown_status = None
        status = self.query_one("#server-status", Static)
        status.set_classes("")
        status.update(Text(f"starting to listen on {where} …"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "listen":
            self.request_listen_toggle()
        elif event.button.id == "echo":
            self.action_toggle_echo()

    def action_toggle_echo(self) -> None:
        self.echo = not self.echo
        self.query_one("#echo", Button).label = f"Echo: {'on' if self.echo else 'off'}"
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

    def on_peer_table_highlighted(self, event: PeerTable.Highlighted) -> None:
        event.stop()
        if self.query_one("#peers").has_focus:
            self.post_message(self.PeerChosen(event.conn))

    def on_peer_table_selected(self, event: PeerTable.Selected) -> None:
        event.stop()
        self.post_message(self.PeerChosen(event.conn, confirmed=True))

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
            return f"{clean(view.error.message)}\n{clean(view.error.hint)}", "-error"
        return "stopped listening — peers stay until closed; F5 listens again", ""

    def show_peers(self, peers: list[ConnectionView], now: float) -> bool:
        """Add or refresh the given peers' rows, all of them at once, however many.

        Returns whether peers wait to be listed: never now (the caller's loop for that stays),
        since the table draws only the rows on screen and a new row costs a few strings.
        """
        self.query_one("#peers", PeerTable).show(peers, now)
        return False

    def forget_peers(self, ids: Iterable[int], forgotten: int) -> None:
        """Remove the rows of closed peers the model forgot, and say how many it forgot.

        Only the newest closed peers keep a row (see ``CLOSED_KEPT``); their events stay in
        the event log, which is where the subtitle points.
        """
        self.query_one("#peers", PeerTable).forget(ids)
        peers = f"{forgotten:,} closed peer{'s' * (forgotten != 1)}"
        subtitle = f"{peers} dropped from the table · see the log" if forgotten else None
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def show_durations(self, peers: list[ConnectionView], now: float) -> None:
        """The clock's tick: only the time-connected column moves without events."""
        self.query_one("#peers", PeerTable).tick(peers, now)


def _unfocusable(button: Button) -> Button:
    button.can_focus = False
    return button
