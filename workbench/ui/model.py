"""What the panes show, folded from the event stream (no Textual here).

The panes never ask the engine for state: they render this model, which is rebuilt only from
events. That keeps the screen truthful (it shows what the stream says happened) and makes a
watched recording look exactly like a live session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Error,
    Event,
    HalfClosed,
    Listening,
    PeerEof,
    Received,
    Sent,
    Side,
    Stopped,
)

CLOSE_STATES = {
    Closer.LOCAL: "closed by us",
    Closer.LOCAL_RESET: "reset by us",
    Closer.PEER: "closed by peer",
    Closer.PEER_RESET: "reset by peer",
}


@dataclass(slots=True)
class ConnectionView:
    """One client session or accepted peer as the UI shows it."""

    id: int
    side: Side
    remote: Address | None
    local: Address | None = None
    listener: int | None = None
    state: str = "connecting"
    bytes_in: int = 0
    bytes_out: int = 0
    opened_at: float = 0.0
    closed_at: float | None = None
    error: Error | None = None
    we_done: bool = False
    peer_done: bool = False
    pending: int = 0  # queued bytes the peer has not taken yet (as of our last write)

    @property
    def alive(self) -> bool:
        return self.closed_at is None and self.state not in ("failed", "connecting")

    def duration(self, now: float) -> float:
        return (self.closed_at or now) - self.opened_at

    @property
    def backlog_note(self) -> str:
        """Says so when our sends are piling up because the peer is not reading."""
        if self.pending and self.alive:
            return f"{human_bytes(self.pending)} waiting: the peer is not reading"
        return ""


@dataclass(slots=True)
class ListenerView:
    """Our server socket."""

    id: int
    local: Address | None
    listening: bool = False
    error: Error | None = None


@dataclass
class SessionModel:
    """Every connection and listener seen so far, updated batch by batch."""

    connections: dict[int, ConnectionView] = field(default_factory=dict)
    listeners: dict[int, ListenerView] = field(default_factory=dict)

    def apply(self, events: Iterable[Event]) -> set[int]:
        """Fold a batch in; returns the ids (connections or listeners) that changed."""
        changed: set[int] = set()
        for event in events:
            if self._apply_one(event):
                changed.add(event.conn)
        return changed

    def peers_of(self, listener_id: int | None) -> list[ConnectionView]:
        return [
            c
            for c in self.connections.values()
            if c.side is Side.PEER and (listener_id is None or c.listener == listener_id)
        ]

    def live_peers(self, listener_id: int | None) -> list[ConnectionView]:
        return [c for c in self.peers_of(listener_id) if c.alive]

    def _apply_one(self, event: Event) -> bool:
        if event.side is Side.LISTENER:
            return self._apply_listener(event)
        view = self.connections.get(event.conn)
        if view is None:
            view = self._open(event)
            if view is None:
                return False
        self._update(view, event)
        return True

    def _apply_listener(self, event: Event) -> bool:
        view = self.listeners.setdefault(event.conn, ListenerView(event.conn, event.local))
        if isinstance(event, Listening):
            view.listening, view.local, view.error = True, event.local, None
        elif isinstance(event, Stopped):
            view.listening = False
        elif isinstance(event, Error):
            view.error = event
        return True

    def _open(self, event: Event) -> ConnectionView | None:
        if isinstance(event, Accepted | Connecting | Connected) or event.side is Side.CLIENT:
            view = ConnectionView(event.conn, event.side, event.remote, opened_at=event.mono)
            if isinstance(event, Accepted):
                view.listener = event.listener
            self.connections[event.conn] = view
            return view
        return None

    def _update(self, view: ConnectionView, event: Event) -> None:
        view.local = event.local or view.local
        view.remote = event.remote or view.remote
        if isinstance(event, Received):
            view.bytes_in += len(event.data)
        elif isinstance(event, Sent):
            view.bytes_out += len(event.data)
            view.pending = event.pending
        elif isinstance(event, Accepted | Connected):
            view.state, view.opened_at = "open", event.mono
        elif isinstance(event, Connecting):
            view.state, view.error, view.closed_at = "connecting", None, None
        elif isinstance(event, PeerEof):
            view.peer_done = True
            view.state = "peer done sending"
        elif isinstance(event, HalfClosed):
            view.we_done = True
            view.state = "we are done sending"
        elif isinstance(event, Closed):
            view.state, view.closed_at = CLOSE_STATES[event.by], event.mono
            view.pending = 0
        elif isinstance(event, Error):
            view.error = event
            if view.state == "connecting":
                view.state, view.closed_at = "failed", event.mono


def human_bytes(count: int) -> str:
    """Exact below 10 KiB (people compare small counts byte for byte), rounded above."""
    if count < 10 * 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def human_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
