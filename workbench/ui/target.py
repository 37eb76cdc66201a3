"""Where the composer sends, and the words that say so (no Textual here).

A target is a client tab (whatever connection it has now: none before F8, a new one after a
reconnect), one accepted peer, or every live peer. ``describe`` and ``target_keys`` turn a
target and the model into the composer's target line; ``TargetChoice`` remembers where F4
goes back to from all peers. All of it is pure: it reads the model, never the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from workbench.describe import HALF_CLOSED_BY_PEER
from workbench.ui.model import ListenerView, SessionModel


class Tab(Protocol):
    """A client tab as a target sees it: the connection it has now, if any."""

    @property
    def conn_id(self) -> int | None: ...

    @property
    def is_attached(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ClientTarget:
    """A client tab: its connection, whichever it is when Enter is pressed."""

    session: Tab


@dataclass(frozen=True, slots=True)
class PeerTarget:
    """One accepted peer, by connection id."""

    peer: int


@dataclass(frozen=True, slots=True)
class AllPeers:
    """Every live peer of our listeners (a broadcast)."""


Target = ClientTarget | PeerTarget | AllPeers


@dataclass(frozen=True, slots=True)
class TargetLine:
    """The target line, whether Enter can send there, and if not, what is in the way."""

    label: str
    live: bool
    trouble: str = ""


def target_conns(target: Target | None, model: SessionModel) -> list[int]:
    """The connections the target stands for (all peers: each live one)."""
    match target:
        case ClientTarget(session) if session.conn_id is not None:
            return [session.conn_id]
        case PeerTarget(peer):
            return [peer]
        case AllPeers():
            return [peer.id for peer in model.live_peers(None)]
    return []


def describe(
    target: Target | None, model: SessionModel, listener: ListenerView | None
) -> TargetLine:
    """The composer's target line for ``target``, as the model has it."""
    match target:
        case None:
            return TargetLine("→ nothing yet", False, "no target yet")
        case AllPeers():
            peers = model.live_peers(None)
            if peers:
                done = sum(peer.peer_done for peer in peers)  # sent FIN: open until we close
                note = f" — {done} {HALF_CLOSED_BY_PEER}" if done else ""
                return TargetLine(f"→ all peers ({len(peers)}){note}", True)
            if listener is not None and listener.listening and listener.local is not None:
                return TargetLine(
                    "→ all peers (0)", False, f"no peer is connected to {listener.local} yet"
                )
            return TargetLine("→ all peers (0)", False, "no peer is connected")
        case PeerTarget(peer):
            conn_id: int | None = peer
            who = "peer"
        case ClientTarget(session):
            conn_id = session.conn_id
            who = "client"
    view = model.connections.get(conn_id) if conn_id is not None else None
    if view is None:
        if who == "peer":  # closed long ago: the model keeps the newest closed
            return TargetLine(f"→ peer #{conn_id} — closed", False, f"peer #{conn_id} — closed")
        return TargetLine(
            "→ client tab, not connected", False, "this tab is not connected (F8 connects)"
        )
    live = view.alive and not view.we_done
    suffix = "" if live else f" — {view.state}"
    if view.backlog_note:
        suffix = f" — {view.backlog_note}"
    trouble = "" if live else f"{who} #{view.id} — {view.state}"
    if not live and who == "client" and not view.alive:
        trouble += " (F8 connects again)"
    return TargetLine(f"→ {who} #{view.id} {view.remote}{suffix}", live, trouble)


def target_keys(
    target: Target | None,
    model: SessionModel,
    *,
    has_tabs: bool,
    listener_id: int | None,
    key: Callable[[str], str],
) -> str:
    """The keys that change the target, as things stand: only what would work now.

    ``key`` names the key bound to an action ('Ctrl+N'); ``listener_id`` is our listener,
    reserved before the engine says it listens.
    """
    listener = model.listeners.get(listener_id) if listener_id else None
    peers = bool(model.live_peers(None))
    keys = []
    if peers:
        keys.append(f"{key('focus_peers')} a peer")
    keys.append(f"{key('focus_tabs')} a tab" if has_tabs else f"{key('new_client')} new tab")
    listening = listener is not None and listener.listening
    if isinstance(target, AllPeers) or peers or listening:
        keys.append(f"{key('target_all_peers')} all peers on/off")
    starting = listener_id is not None and listener is None
    if not (listening or starting or peers):
        keys.append(f"{key('toggle_listen')} listen")
    return " · ".join(keys)


class TargetChoice:
    """The target chosen now, and the one F4 goes back to from all peers."""

    def __init__(self) -> None:
        self.current: Target | None = None
        self._before_all: Target | None = None

    def choose(self, target: Target | None) -> None:
        if isinstance(target, AllPeers) and not isinstance(self.current, AllPeers | None):
            self._before_all = self.current
        self.current = target

    def toggle_all(self, model: SessionModel, shown: Tab | None) -> None:
        """F4: all peers, or back from all peers to the tab or peer chosen before (if it is
        still there), else to the tab ``shown``, else nowhere."""
        if not isinstance(self.current, AllPeers):
            self.choose(AllPeers())
            return
        before, self._before_all = self._before_all, None
        match before:
            case PeerTarget(peer) if (view := model.connections.get(peer)) and view.alive:
                self.choose(before)
            case ClientTarget(session) if session.is_attached:
                self.choose(before)
            case _:
                self.choose(ClientTarget(shown) if shown is not None else None)
