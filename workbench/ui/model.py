"""What the panes show, folded from the event stream (no Textual here).

The panes never ask the engine for state: they render this model, which is rebuilt only from
events. That keeps the screen truthful (it shows what the stream says happened) and makes a
watched recording look exactly like a live session.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from workbench.describe import (
    CONNECTING,
    FAILED,
    HALF_CLOSED_BY_PEER,
    HALF_CLOSED_BY_US,
    OPEN,
    closed_state,
)
from workbench.events import (
    Accepted,
    Address,
    Closed,
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

CLOSED_KEPT = 200
"""Closed connections of each side (peers, clients) and stopped listeners the model keeps: the
newest ones. Open connections are all kept. A long run with short-lived peers must not grow
the peers table or this model without bound; their events stay in the event log."""


@dataclass(slots=True)
class ConnectionView:
    """One client session or accepted peer as the UI shows it."""

    id: int
    side: Side
    remote: Address | None
    local: Address | None = None
    listener: int | None = None
    state: str = CONNECTING
    """In ``workbench.describe``'s words: connecting, open, failed, half-closed (FIN by peer),
    half-closed (FIN by us), or closed with its closer (closed (RST by peer), ...)."""
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
        return self.closed_at is None and self.state not in (FAILED, CONNECTING)

    def duration(self, now: float) -> float:
        return (self.closed_at or now) - self.opened_at

    @property
    def backlog_note(self) -> str:
        """Says so when our sends pile up: the peer takes bytes slower than we queue them.

        True of a peer that reads nothing and of one that reads slowly (a file send to a slow
        link): the kernel's send buffer is full, and TCP's flow control holds our sends back.
        """
        if self.pending and self.alive:
            return f"{human_bytes(self.pending)} waiting: the peer is not keeping up"
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
    """Every open connection and listener, the newest ``closed_kept`` closed ones of each side,
    updated batch by batch.

    Closed connections beyond that are forgotten, oldest closed first: ``forgotten`` counts them
    per side, and ``take_forgotten`` hands their ids to whoever shows them, once.
    """

    connections: dict[int, ConnectionView] = field(default_factory=dict)
    listeners: dict[int, ListenerView] = field(default_factory=dict)
    closed_kept: int = CLOSED_KEPT
    forgotten: dict[Side, int] = field(default_factory=lambda: dict.fromkeys(Side, 0))
    # Ids of the closed connections (and stopped listeners) kept, oldest closed first.
    _closed: dict[Side, OrderedDict[int, None]] = field(
        default_factory=lambda: {side: OrderedDict() for side in Side}
    )
    _forgotten_ids: list[int] = field(default_factory=list)

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

    def take_forgotten(self) -> list[int]:
        """Ids of the connections forgotten since the last call (peers and clients)."""
        ids, self._forgotten_ids = self._forgotten_ids, []
        return ids

    def _apply_one(self, event: Event) -> bool:
        if event.side is Side.LISTENER:
            return self._apply_listener(event)
        view = self.connections.get(event.conn)
        if view is None:
            view = self._open(event)
            if view is None:
                return False
        self._update(view, event)
        self._note_closed(view.side, view.id, view.closed_at is not None)
        return True

    def _note_closed(self, side: Side, id: int, closed: bool) -> None:
        """Keep the closed order current and forget the oldest closed beyond the budget."""
        order = self._closed[side]
        if not closed:
            order.pop(id, None)  # open again (a client reconnecting under the same id)
            return
        if id in order:
            return  # still closed: it keeps its place
        order[id] = None
        while len(order) > self.closed_kept:
            oldest, _ = order.popitem(last=False)
            self.forgotten[side] += 1
            if side is Side.LISTENER:
                del self.listeners[oldest]
            else:
                del self.connections[oldest]
                self._forgotten_ids.append(oldest)

    def _apply_listener(self, event: Event) -> bool:
        view = self.listeners.setdefault(event.conn, ListenerView(event.conn, event.local))
        if isinstance(event, Listening):
            view.listening, view.local, view.error = True, event.local, None
        elif isinstance(event, Stopped):
            view.listening = False
        elif isinstance(event, Error):
            view.error = event
        self._note_closed(Side.LISTENER, view.id, not view.listening)
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
            view.state, view.opened_at = OPEN, event.mono
        elif isinstance(event, Connecting):
            view.state, view.error, view.closed_at = CONNECTING, None, None
        elif isinstance(event, PeerEof):
            view.peer_done = True
            view.state = HALF_CLOSED_BY_PEER
        elif isinstance(event, HalfClosed):
            view.we_done = True
            view.state = HALF_CLOSED_BY_US
        elif isinstance(event, Closed):
            view.state, view.closed_at = closed_state(event.by), event.mono
            view.pending = 0
        elif isinstance(event, Error):
            view.error = event
            if view.state == CONNECTING:
                view.state, view.closed_at = FAILED, event.mono


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
