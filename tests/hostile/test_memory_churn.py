"""A long run of short-lived peers: the peers table and the per-connection state stay bounded.

Every open peer stays listed; of the closed ones only the newest CLOSED_KEPT keep their row
and their entry in the model, and the server pane says how many it dropped (their events are
still in the event log).
"""

from __future__ import annotations

import socket
from collections import Counter
from functools import partial

import pytest
from textual.app import App, ComposeResult

from tests.ui.helpers import wait_until
from workbench.events import (
    Side,
)
from workbench.testing import Story
from workbench.ui.app import WorkbenchApp
from workbench.ui.event_store import EventStore
from workbench.ui.model import CLOSED_KEPT, SessionModel
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.peer_table import PeerTable
from workbench.ui.widgets.server_pane import ServerPane

CYCLES = 3000
ROUND = 500
OPEN_PEERS = 5
WAIT_SECONDS = 30.0


def accepted_all(counts: Counter[str], wanted: int) -> bool:
    return counts["accept"] == wanted


@pytest.mark.asyncio
async def test_3000_connect_close_cycles_keep_the_newest_200_closed_peers_and_every_open_one() -> (
    None
):
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        # Closing after the peer's FIN is asked for, whatever the listener's default is.
        app.server.listener_id = app.bridge.reserve_id()
        app.bridge.listen(
            "127.0.0.1", 0, listener_id=app.listener_id, echo=False, close_on_eof=True
        )
        listener = lambda: app.model.listeners.get(app.listener_id or -1)  # noqa: E731
        await wait_until(
            pilot,
            lambda: (v := listener()) is not None and v.listening,
            "listening",
            within=WAIT_SECONDS,
        )
        local = listener().local  # type: ignore[union-attr]
        assert local is not None
        address = ("127.0.0.1", local.port)
        counts = app.query_one(EventLog).store.kind_counts
        staying = [socket.create_connection(address) for _ in range(OPEN_PEERS)]
        await wait_until(
            pilot, lambda: counts["accept"] == OPEN_PEERS, "the open peers", within=WAIT_SECONDS
        )
        for done in range(0, CYCLES, ROUND):
            # A round at a time, so the accept backlog never overflows (no SYN retries).
            churn = [socket.create_connection(address) for _ in range(ROUND)]
            for sock in churn:
                sock.close()
            wanted = OPEN_PEERS + done + ROUND
            await wait_until(
                pilot,
                partial(accepted_all, counts, wanted),
                "a round of accepts",
                within=WAIT_SECONDS,
            )
        await wait_until(
            pilot,
            lambda: counts["close"] == CYCLES,
            "every churned peer closed",
            within=WAIT_SECONDS,
        )

        table = app.query_one("#peers", PeerTable)
        pane = app.query_one(ServerPane)
        dropped = CYCLES - CLOSED_KEPT
        await wait_until(
            pilot,
            lambda: table.row_count == CLOSED_KEPT + OPEN_PEERS,
            "the table",
            within=WAIT_SECONDS,
        )
        await wait_until(
            pilot,
            lambda: f"{dropped:,} closed peers" in str(pane.border_subtitle),
            "the note",
            within=WAIT_SECONDS,
        )
        assert "dropped from the table" in str(pane.border_subtitle)
        model = app.model
        assert model.forgotten[Side.PEER] == dropped
        assert len(model.connections) == CLOSED_KEPT + OPEN_PEERS
        live = model.live_peers(app.listener_id)
        assert len(live) == OPEN_PEERS
        assert {p.id for p in live} <= set(table.peer_ids)
        gone = sorted(p.id for p in model.peers_of(None) if not p.alive)
        assert len(gone) == CLOSED_KEPT and set(gone) <= set(table.peer_ids)
        for sock in staying:
            sock.close()


def test_20000_short_lived_peers_leave_the_model_with_its_open_peers_and_200_closed() -> None:
    story, model = Story(), SessionModel()
    model.apply(story.accepted(conn, listener=1) for conn in range(1, 301))
    forgotten: list[int] = []
    for conn in range(1_000, 21_000):
        model.apply([story.accepted(conn, listener=1), story.closed(conn)])
        if conn % 997 == 0:
            forgotten += model.take_forgotten()
        assert len(model.connections) <= 300 + CLOSED_KEPT
    forgotten += model.take_forgotten()
    assert len(model.connections) == 300 + CLOSED_KEPT
    assert len(model.live_peers(1)) == 300
    assert sorted(forgotten) == list(range(1_000, 21_000 - CLOSED_KEPT))
    assert model.forgotten[Side.PEER] == 20_000 - CLOSED_KEPT
    assert model.take_forgotten() == []


def test_closed_clients_are_forgotten_like_peers_but_apart_from_them() -> None:
    story, model = Story(), SessionModel(closed_kept=2)
    for conn in (1, 2, 3):
        model.apply([story.connected(conn), story.closed(conn)])
    model.apply([story.accepted(4, listener=1), story.closed(4)])
    assert set(model.connections) == {2, 3, 4} and model.forgotten[Side.CLIENT] == 1
    assert model.forgotten[Side.PEER] == 0 and model.take_forgotten() == [1]


def test_stopped_listeners_are_forgotten_beyond_the_newest_and_listening_ones_stay() -> None:
    story, model = Story(), SessionModel(closed_kept=2)
    model.apply([story.listening(1)])
    for conn in range(2, 7):
        model.apply([story.listening(conn), story.stopped(conn)])
    assert set(model.listeners) == {1, 5, 6} and model.forgotten[Side.LISTENER] == 3
    assert model.take_forgotten() == []  # listeners have no rows in the peers table


def test_the_event_store_forgets_connections_no_retained_event_names() -> None:
    """Search metadata (connections, addresses) is bounded by the log's cap, not by the run."""
    story, store = Story(), EventStore(cap=1_000)
    for conn in range(20_000):
        accepted, data = story.accepted(conn, listener=1), story.received(conn, b"x")
        store.append([accepted, data, story.closed(conn)])
        assert len(store.conn_ids) < 2_500
    store.set_search("#19999")
    assert store.visible_count == 3


class _Table(App[None]):
    def compose(self) -> ComposeResult:
        yield PeerTable(id="peers")


@pytest.mark.asyncio
async def test_forgetting_many_peer_rows_at_once_keeps_the_others_in_order_and_the_cursor() -> None:
    """Forgetting 200 of 1,200 rows is one pass: the rest keep their order, the cursor its peer."""
    story, model = Story(), SessionModel()
    model.apply(story.accepted(conn, listener=1) for conn in range(1, 1_201))
    app = _Table()
    async with app.run_test(size=(80, 30)) as pilot:
        table = app.query_one(PeerTable)
        table.show(model.peers_of(None), now=5.0)
        table.move_cursor(row=table.get_row_index(1_100))
        doomed = [conn for conn in range(1, 1_201) if conn % 3 and conn < 300] + [99_999]
        table.forget(doomed)
        await pilot.pause()
        kept = [conn for conn in range(1, 1_201) if conn not in set(doomed)]
        assert table.peer_ids == kept and table.row_count == len(kept)
        assert [table.get_row_at(i)[0] for i in range(3)] == [f"#{c}" for c in kept[:3]]
        assert all(table.get_row_index(conn) == row for row, conn in enumerate(kept))
        assert table.cursor_peer == 1_100
        assert table.virtual_size.height == len(kept) + 1  # the header and the rows
        table.forget(kept[-5:])  # the cursor's own row goes: it stays at its place, clamped
        table.forget([1_100])
        assert table.cursor_peer is not None and table.cursor_peer in table.peer_ids
