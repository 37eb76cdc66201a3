"""The event store: exact totals, capped memory, and filters that stay right while events flow."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.events import Address, Closed, Closer, Error, Event, Listening, Received, Sent, Side
from workbench.ui.event_store import EventStore, searchable

LOCAL = Address("127.0.0.1", 5000)
REMOTE = Address("10.0.0.7", 40000)


def data_event(seq: int, conn: int = 1, *, sent: bool = False, data: bytes = b"hello") -> Event:
    kind = Sent if sent else Received
    return kind(
        seq=seq,
        mono=0.0,
        wall=1.7e9,
        conn=conn,
        side=Side.PEER,
        local=LOCAL,
        remote=REMOTE,
        data=data,
    )


def error_event(seq: int, conn: int = 9) -> Error:
    return Error(
        seq=seq,
        mono=0.0,
        wall=1.7e9,
        conn=conn,
        side=Side.CLIENT,
        remote=Address("127.0.0.1", 1),
        operation="connect",
        errno=111,
        message="Refused",
        hint="nothing is listening on 127.0.0.1:1",
    )


def model_view(
    events: list[Event], cap: int, conns: set[int] | None, kinds: set[str] | None, search: str
) -> list[Event]:
    """What the store should show, computed the slow and obvious way."""
    return [
        ev
        for ev in events[-cap:]
        if (conns is None or ev.conn in conns)
        and (kinds is None or ev.kind in kinds)
        and search.lower() in searchable(ev)
    ]


def test_cap_drops_oldest_but_totals_stay_exact() -> None:
    store = EventStore(cap=5)
    events = [data_event(i, sent=i % 3 == 0, data=b"x" * i) for i in range(12)]
    for start in range(0, 12, 4):
        store.append(events[start : start + 4])

    assert list(store.view()) == events[-5:]
    assert (len(store), store.dropped, store.total_events) == (5, 7, 12)
    assert store.bytes_out == sum(i for i in range(12) if i % 3 == 0)
    assert store.bytes_in == sum(i for i in range(12) if i % 3)
    assert store.kind_counts == Counter(send=4, recv=8)
    assert store.first_position == 7
    assert store.event_at(7) is events[7]
    with pytest.raises(IndexError):
        store.event_at(6)


def test_a_batch_larger_than_the_cap_keeps_only_its_newest_events() -> None:
    store = EventStore(cap=3)
    events = [data_event(i) for i in range(10)]
    store.append(events)
    assert list(store.view()) == events[-3:]
    assert (store.dropped, store.total_events, store.bytes_in) == (7, 10, 50)


def test_filters_by_connection_and_kind() -> None:
    store = EventStore()
    events = [data_event(i, conn=i % 3, sent=i % 2 == 0) for i in range(30)]
    store.append(events)

    store.set_filter({1}, None)
    assert list(store.view()) == [ev for ev in events if ev.conn == 1]
    store.set_filter({1, 2}, {"send"})
    assert list(store.view()) == [ev for ev in events if ev.conn in {1, 2} and ev.kind == "send"]
    store.set_filter(None, None)
    assert not store.filtering
    assert list(store.view()) == events


def test_search_covers_kind_conn_addresses_errors_and_escaped_payload() -> None:
    store = EventStore()
    hostile = data_event(1, conn=3, data=b"\x1b[31mGET /Index.html")
    refused = error_event(2)
    closed = Closed(seq=3, mono=0.0, wall=1.7e9, conn=4, side=Side.PEER, by=Closer.PEER_RESET)
    listening = Listening(
        seq=4, mono=0.0, wall=1.7e9, conn=5, side=Side.LISTENER, local=LOCAL, backlog=5
    )
    store.append([hostile, refused, closed, listening])

    expectations = {
        "index.HTML": [hostile],
        "\\x1b[31m": [hostile],
        "#3": [hostile],
        "10.0.0.7:40000": [hostile],
        "NOTHING IS LISTENING": [refused],
        "refused": [refused],
        "peer-reset": [closed],
        "listen #5": [listening],
        "none": [],
        "127.0.0.1:5000": [hostile, listening],
    }
    for text, expected in expectations.items():
        store.set_search(text)
        assert list(store.view()) == expected, text
    store.set_search("")
    assert len(store.view()) == 4


def test_search_looks_only_at_the_start_of_huge_payloads() -> None:
    store = EventStore()
    store.append([data_event(1, data=b"a" * 10_000 + b"needle")])
    store.set_search("needle")
    assert len(store.view()) == 0


def test_appending_under_an_active_filter_extends_the_view_incrementally() -> None:
    store = EventStore(cap=10)
    store.set_filter({2}, {"recv"})
    store.set_search("hello")
    events = [data_event(i, conn=i % 3, data=b"hello" if i % 4 else b"bye") for i in range(40)]
    for start in range(0, 40, 7):
        store.append(events[start : start + 7])
        expected = model_view(events[: start + 7], 10, {2}, {"recv"}, "hello")
        assert list(store.view()) == expected


def test_append_reports_how_many_visible_rows_fell_off() -> None:
    store = EventStore(cap=4)
    store.set_filter({1}, None)
    store.append([data_event(0, conn=1), data_event(1, conn=2), data_event(2, conn=1)])
    assert store.append([data_event(3, conn=2), data_event(4, conn=2)]) == 1
    assert [ev.seq for ev in store.view()] == [2]


def test_rows_and_positions_agree_under_a_filter() -> None:
    store = EventStore()
    store.append([data_event(i, conn=i % 2) for i in range(10)])
    store.set_filter({1}, None)
    assert [store.position_of(row) for row in range(5)] == [1, 3, 5, 7, 9]
    assert store.row_for(5) == 2
    assert store.row_for(4) == 2  # a filtered-out event maps to the next visible row
    assert store.view()[-1].seq == 9
    assert [ev.seq for ev in store.view()[1:3]] == [3, 5]


batches = st.lists(
    st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.sampled_from([b"ab", b"AB\n", b"zz"])),
        max_size=9,
    ),
    max_size=12,
)
filters = st.tuples(
    st.none() | st.sets(st.integers(0, 3)),
    st.none() | st.sets(st.sampled_from(["send", "recv"])),
    st.sampled_from(["", "ab", "\\n", "#2"]),
)


@given(cap=st.integers(1, 12), plan=batches, change_at=st.integers(0, 12), chosen=filters)
def test_view_always_matches_the_obvious_model(
    cap: int,
    plan: list[list[tuple[int, bool, bytes]]],
    change_at: int,
    chosen: tuple[set[int] | None, set[str] | None, str],
) -> None:
    store = EventStore(cap=cap)
    events: list[Event] = []
    conns, kinds, search = None, None, ""
    for index, batch in enumerate(plan):
        if index == change_at:
            conns, kinds, search = chosen
            store.set_filter(conns, kinds)
            store.set_search(search)
        new = [
            data_event(len(events) + i, conn, sent=sent, data=data)
            for i, (conn, sent, data) in enumerate(batch)
        ]
        events += new
        store.append(new)
        assert list(store.view()) == model_view(events, cap, conns, kinds, search)
    assert store.total_events == len(events)
    assert store.dropped == max(0, len(events) - cap)


def test_a_million_events_build_and_filter_correctly() -> None:
    count = 1_000_000
    store = EventStore(cap=count)
    template = [data_event(i, conn=i % 10, sent=i % 2 == 0, data=b"x") for i in range(1000)]
    for _ in range(count // 1000):
        store.append(template)

    assert (len(store), store.total_events, store.dropped) == (count, count, 0)
    assert store.bytes_in == store.bytes_out == count // 2
    store.set_filter({3}, None)
    assert store.visible_count == count // 10
    store.set_filter({3, 4}, {"send"})
    assert store.visible_count == count // 10  # conn 3 only receives, conn 4 only sends
    assert all(ev.conn == 4 for ev in store.view()[:100])
    store.set_filter(None, None)
    assert store.visible_count == count
