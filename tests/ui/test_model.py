"""The session model folds the event stream into what the panes show, and nothing else."""

from __future__ import annotations

from workbench.events import Closer, Side
from workbench.testing import Story
from workbench.ui.model import SessionModel


def test_a_peer_lives_from_accept_to_close_and_counts_every_byte() -> None:
    story, model = Story(), SessionModel()
    story.listening(1)
    story.accepted(2, listener=1)
    story.received(2, b"hello")
    story.sent(2, b"hello back", pending=3)
    assert model.apply(story.events) == {1, 2}
    peer = model.connections[2]
    assert (peer.side, peer.listener, peer.state, peer.alive) == (Side.PEER, 1, "open", True)
    assert (peer.bytes_in, peer.bytes_out, peer.pending) == (5, 10, 3)
    assert model.live_peers(1) == [peer] and model.listeners[1].listening
    model.apply([story.closed(2, Closer.PEER_RESET)])
    assert not peer.alive and peer.state == "closed (RST by peer)" and peer.pending == 0
    assert model.live_peers(1) == [] and model.peers_of(1) == [peer]


def test_half_closes_are_told_apart_from_closes() -> None:
    story, model = Story(), SessionModel()
    model.apply([story.connecting(3), story.connected(3), story.peer_eof(3)])
    client = model.connections[3]
    assert client.peer_done and client.alive and client.state == "half-closed (FIN by peer)"
    model.apply([story.half_closed(3)])
    assert client.we_done and client.alive and client.state == "half-closed (FIN by us)"


def test_a_refused_connect_is_failed_not_alive() -> None:
    story, model = Story(), SessionModel()
    model.apply([story.connecting(4), story.error(4, "connect", "refused", "nothing listens")])
    client = model.connections[4]
    assert client.state == "failed" and not client.alive and client.error is not None


def test_only_the_newest_closed_connections_are_kept_and_the_rest_are_handed_over_once() -> None:
    story, model = Story(), SessionModel(closed_kept=2)
    model.apply([story.listening(1)])
    for conn in range(10, 15):
        model.apply([story.accepted(conn, listener=1), story.closed(conn)])
    assert sorted(model.connections) == [13, 14]
    assert model.forgotten[Side.PEER] == 3
    assert model.take_forgotten() == [10, 11, 12] and model.take_forgotten() == []


def test_events_of_a_connection_never_opened_are_ignored() -> None:
    """A peer's event without its accept (a recording started mid-connection) makes no row."""
    story, model = Story(), SessionModel()
    story.accepted(5, listener=1)
    late = story.received(5, b"x")
    assert model.apply([late]) == set() and model.connections == {}
