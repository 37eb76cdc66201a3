"""The composer's target line, from a target and the model alone (no screen, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.events import Closer
from workbench.testing import SERVER, Story
from workbench.ui.model import SessionModel
from workbench.ui.target import (
    AllPeers,
    ClientTarget,
    PeerTarget,
    TargetChoice,
    TargetLine,
    describe,
    target_conns,
    target_keys,
)


@dataclass
class FakeTab:
    conn_id: int | None = None
    is_attached: bool = True


KEYS = {
    "focus_peers": "Ctrl+N",
    "focus_tabs": "Ctrl+Y",
    "new_client": "F6",
    "target_all_peers": "F4",
    "toggle_listen": "F5",
}


def model_of(story: Story) -> SessionModel:
    model = SessionModel()
    model.apply(story.events)
    return model


def keys(target: object, model: SessionModel, *, tabs: bool, listener: int | None) -> str:
    return target_keys(
        target,  # type: ignore[arg-type]
        model,
        has_tabs=tabs,
        listener_id=listener,
        key=KEYS.__getitem__,
    )


def test_no_target_says_nothing_yet_and_cannot_send() -> None:
    assert describe(None, SessionModel(), None) == TargetLine(
        "→ nothing yet", False, "no target yet"
    )


def test_all_peers_counts_the_live_peers_and_those_done_sending() -> None:
    story = Story()
    story.listening(1)
    story.accepted(2, listener=1)
    story.accepted(3, listener=1)
    story.accepted(4, listener=1)
    story.closed(4)
    story.peer_eof(3)
    line = describe(AllPeers(), model_of(story), None)
    assert line == TargetLine("→ all peers (2) — 1 half-closed (FIN by peer)", True)


def test_all_peers_with_none_connected_names_where_we_listen() -> None:
    story = Story()
    story.listening(1)
    model = model_of(story)
    line = describe(AllPeers(), model, model.listeners[1])
    assert not line.live
    assert line.trouble == f"no peer is connected to {SERVER} yet"
    assert describe(AllPeers(), SessionModel(), None).trouble == "no peer is connected"


def test_a_peer_target_names_the_peer_and_its_state_once_it_closed() -> None:
    story = Story()
    story.listening(1)
    peer = story.accepted(2, listener=1)
    model = model_of(story)
    assert describe(PeerTarget(2), model, None) == TargetLine(f"→ peer #2 {peer.remote}", True)
    model.apply([story.closed(2, Closer.PEER_RESET)])
    line = describe(PeerTarget(2), model, None)
    state = model.connections[2].state
    assert line == TargetLine(f"→ peer #2 {peer.remote} — {state}", False, f"peer #2 — {state}")


def test_a_peer_the_model_forgot_reads_closed() -> None:
    line = describe(PeerTarget(7), SessionModel(), None)
    assert line == TargetLine("→ peer #7 — closed", False, "peer #7 — closed")


def test_a_client_tab_before_connecting_says_how_to_connect() -> None:
    line = describe(ClientTarget(FakeTab()), SessionModel(), None)
    assert line == TargetLine(
        "→ client tab, not connected", False, "this tab is not connected (F8 connects)"
    )


def test_a_closed_client_says_f8_connects_again_and_one_done_sending_cannot_send() -> None:
    story = Story()
    story.connected(5)
    model = model_of(story)
    tab = ClientTarget(FakeTab(5))
    assert describe(tab, model, None) == TargetLine(f"→ client #5 {SERVER}", True)
    model.apply([story.half_closed(5)])
    line = describe(tab, model, None)
    assert not line.live and line.trouble == "client #5 — half-closed (FIN by us)"
    model.apply([story.closed(5)])
    assert describe(tab, model, None).trouble.endswith("(F8 connects again)")


def test_a_backlog_replaces_the_state_on_the_line() -> None:
    story = Story()
    story.connected(5)
    story.sent(5, b"x", pending=1 << 20)
    line = describe(ClientTarget(FakeTab(5)), model_of(story), None)
    assert line.live and line.label.endswith("waiting: the peer is not keeping up")


def test_target_conns_are_the_tab_connection_the_peer_or_every_live_peer() -> None:
    story = Story()
    story.listening(1)
    story.accepted(2, listener=1)
    story.accepted(3, listener=1)
    story.closed(3)
    model = model_of(story)
    assert target_conns(None, model) == []
    assert target_conns(ClientTarget(FakeTab()), model) == []
    assert target_conns(ClientTarget(FakeTab(9)), model) == [9]
    assert target_conns(PeerTarget(3), model) == [3]
    assert target_conns(AllPeers(), model) == [2]


def test_the_keys_offer_only_what_works_now() -> None:
    empty = SessionModel()
    assert keys(None, empty, tabs=False, listener=None) == "F6 new tab · F5 listen"
    assert keys(None, empty, tabs=True, listener=None) == "Ctrl+Y a tab · F5 listen"
    # listening asked for, not yet confirmed: no second listen offered
    assert keys(None, empty, tabs=False, listener=1) == "F6 new tab"
    story = Story()
    story.listening(1)
    listening = model_of(story)
    assert keys(None, listening, tabs=False, listener=1) == "F6 new tab · F4 all peers on/off"
    story.accepted(2, listener=1)
    peers = model_of(story)
    assert keys(AllPeers(), peers, tabs=True, listener=1) == (
        "Ctrl+N a peer · Ctrl+Y a tab · F4 all peers on/off"
    )
    assert "F4 all peers on/off" in keys(AllPeers(), empty, tabs=False, listener=None)


def test_f4_goes_back_to_the_tab_or_live_peer_chosen_before() -> None:
    story = Story()
    story.listening(1)
    story.accepted(2, listener=1)
    model = model_of(story)
    tab, other = FakeTab(5), FakeTab(6)
    choice = TargetChoice()
    choice.choose(ClientTarget(tab))
    choice.toggle_all(model, other)
    assert choice.current == AllPeers()
    choice.toggle_all(model, other)
    assert choice.current == ClientTarget(tab)

    choice.choose(PeerTarget(2))
    choice.toggle_all(model, other)
    model.apply([story.closed(2)])
    choice.toggle_all(model, other)
    assert choice.current == ClientTarget(other), "the peer closed: the tab shown instead"

    choice.choose(ClientTarget(FakeTab(7, is_attached=False)))
    choice.toggle_all(model, None)
    choice.toggle_all(model, None)
    assert choice.current is None, "the tab closed and none is shown: nowhere"
