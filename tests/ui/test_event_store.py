"""The event store: exact totals, capped memory, and filters that stay right while events flow."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.codec import EncodeError, Mode, encode
from workbench.describe import detail, payload_of
from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Error,
    Event,
    Listening,
    Received,
    Sent,
    Side,
)
from workbench.ui.event_search import SEARCH_BYTES
from workbench.ui.event_store import PAYLOAD_CAP, EventStore

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


def error_event(
    seq: int, conn: int = 9, hint: str = "nothing is listening on 127.0.0.1:1"
) -> Error:
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
        hint=hint,
    )


def matches(event: Event, search: str) -> bool:
    """The search rules spelled out one column at a time, the slow and obvious way."""
    needle = search.lower()
    data = payload_of(event)
    shown = [event.kind, f"#{event.conn}", str(event.local or ""), str(event.remote or "")]
    if data is None:
        shown.append(detail(event))
    if any(needle in text.lower() for text in shown):
        return True
    if data is None or not needle.isprintable():
        return False
    try:
        raw = encode(needle, Mode.ESCAPES)
    except EncodeError:
        return False
    return raw.lower() in data[:SEARCH_BYTES].lower()


def retained(events: list[Event], cap: int, payload_cap: int) -> list[Event]:
    """The newest events that fit both caps, counted from the newest; that one always stays."""
    kept: list[Event] = []
    payload = 0
    for event in reversed(events):
        size = len(payload_of(event) or b"")
        if len(kept) == cap or (kept and payload + size > payload_cap):
            break
        kept.append(event)
        payload += size
    return kept[::-1]


def model_view(
    events: list[Event],
    cap: int,
    conns: set[int] | None,
    kinds: set[str] | None,
    search: str,
    payload_cap: int = PAYLOAD_CAP,
) -> list[Event]:
    """What the store should show, computed the slow and obvious way."""
    return [
        ev
        for ev in retained(events, cap, payload_cap)
        if (conns is None or ev.conn in conns)
        and (kinds is None or ev.kind in kinds)
        and matches(ev, search)
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


def test_the_payload_cap_bounds_memory_but_keeps_the_newest_event() -> None:
    store = EventStore(cap=100, payload_cap=1000)
    small = [data_event(i, data=b"s" * 300) for i in range(5)]
    removed = store.append(small)
    assert (list(store.view()), removed, store.payload_bytes) == (small[-3:], 2, 900)
    huge = data_event(5, data=b"h" * 5000)
    store.append([huge])
    assert (list(store.view()), store.payload_bytes) == ([huge], 5000)
    assert (store.dropped, store.bytes_in) == (5, 6500)  # the totals still count everything


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
        "RST by peer": [closed],
        "listen": [refused, listening],  # the hint says "listening" too
        "#5": [listening],
        "backlog 5": [listening],
        "none": [],
        "127.0.0.1:5000": [hostile, listening],
    }
    for text, expected in expectations.items():
        store.set_search(text)
        assert list(store.view()) == expected, text
    store.set_search("")
    assert len(store.view()) == 4


def test_each_column_is_searched_on_its_own() -> None:
    """Kind, #conn and addresses sit in separate columns, so text spanning them finds nothing."""
    store = EventStore()
    listening = Listening(
        seq=1, mono=0.0, wall=1.7e9, conn=5, side=Side.LISTENER, local=LOCAL, backlog=5
    )
    store.append([listening, data_event(2, conn=3)])
    for text in ["listen #5", "recv #3", "#3 127.0.0.1", "40000 hello"]:
        store.set_search(text)
        assert list(store.view()) == [], text


def test_a_filtered_out_event_lends_nothing_to_its_neighbour() -> None:
    """Payload-free events are read one by one after the filter: never the wrong one."""
    store = EventStore()
    store.set_filter({1}, None)
    store.append([error_event(0, conn=2), data_event(1, conn=1)])
    store.set_search("5000 ⇄")  # how the data event's addresses read in a payload-free row
    assert list(store.view()) == []


def test_payloads_are_searched_case_insensitively() -> None:
    store = EventStore()
    greeting = data_event(1, data=b"Hello, World\r\n")
    shout = data_event(2, sent=True, data=b"HELLO AGAIN")
    other = data_event(3, data=b"goodbye")
    store.append([greeting, shout, other])
    for text, expected in {
        "hello": [greeting, shout],
        "WORLD": [greeting],
        "o, w": [greeting],
        "hello again": [shout],
        "bye": [other],
        "hellos": [],
    }.items():
        store.set_search(text)
        assert list(store.view()) == expected, text


def test_escapes_as_the_log_shows_them_find_the_raw_bytes() -> None:
    store = EventStore()
    http = data_event(1, data=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    binary = data_event(2, data=b"\x00\x01\xffend\t")
    backslashes = data_event(3, data=b"C:\\temp\\r\\n")  # shown as C:\\temp\\r\\n
    text = data_event(4, data="café".encode())
    store.append([http, binary, backslashes, text])
    for needle, expected in {
        "\\r\\n": [http],
        "HTTP/1.1\\r\\nhost": [http],
        "\\r\\n\\r\\n": [http],
        "\\x00": [binary],
        "\\0\\x01\\XFF": [binary],
        "\\xffEND": [binary],
        "\\t": [binary],
        "\t": [],  # the log shows a tab as \\t, never as itself
        "\\\\temp": [backslashes],
        "\\\\r\\\\n": [backslashes],
        "café": [text],
        "CAFÉ": [text],  # the search is lowercased, so its É still finds the é
        "caf\\xc3\\xa9": [text],
        # A broken escape names no byte, and escapes match bytes, not the letters spelling them.
        "\\x0": [],
        "\\q": [],
        "x00": [],
        "xff": [],
    }.items():
        store.set_search(needle)
        assert list(store.view()) == expected, needle


def test_conn_search_matches_the_number_as_shown() -> None:
    store = EventStore()
    events = [data_event(i, conn=conn) for i, conn in enumerate([3, 4, 13, 30, 7])]
    store.append(events)
    store.set_search("#3")
    assert [ev.conn for ev in store.view()] == [3, 30]
    store.set_search("3")  # a bare number also finds #13, and any address or payload with it
    assert [ev.conn for ev in store.view()] == [3, 13, 30]


def test_search_finds_error_hints_and_addresses_of_payload_free_events() -> None:
    store = EventStore()
    refused = error_event(1, hint="check the firewall on 10.9.8.7")
    accepted = Accepted(
        seq=2,
        mono=0.0,
        wall=1.7e9,
        conn=8,
        side=Side.PEER,
        local=LOCAL,
        remote=Address("192.168.1.20", 51000),
        listener=2,
    )
    store.append([data_event(0), refused, accepted, data_event(3)])
    for needle, expected in {
        "FIREWALL": [refused],
        "10.9.8.7": [refused],
        "192.168.1.20:51000": [accepted],
        "via listener #2": [accepted],
        "accept": [accepted],
        "error": [refused],
    }.items():
        store.set_search(needle)
        assert list(store.view()) == expected, needle


def test_search_finds_the_kind() -> None:
    store = EventStore()
    events = [data_event(i, sent=i % 3 == 0) for i in range(9)]
    store.append(events)
    store.set_search("SEND")
    assert list(store.view()) == events[::3]
    store.set_search("rec")
    assert len(store.view()) == 6


def test_search_looks_only_at_the_start_of_huge_payloads() -> None:
    store = EventStore()
    cut = data_event(1, data=b"a" * (SEARCH_BYTES - 6) + b"Needle:42")  # ":42" is past it
    store.append([cut, data_event(2, data=b"a" * 10_000 + b"needle:42")])
    for text, expected in {"NEEDLE": [cut], "needle:": [], "42": [], "e:42": []}.items():
        store.set_search(text)
        assert list(store.view()) == expected, text


def test_dropped_events_leave_nothing_behind_for_search() -> None:
    """A search keeps nothing per event; its list of payload-free events drops with them."""
    store = EventStore(cap=5)
    store.append([error_event(seq) for seq in range(12)])  # more than the cap at once
    assert [store.event_at(p).seq for p in store._quiet] == [7, 8, 9, 10, 11]
    for seq in range(12, 52, 4):
        store.append(
            [error_event(seq), data_event(seq + 1), error_event(seq + 2), data_event(seq + 3)]
        )
    store.set_search("refused")
    assert [ev.seq for ev in store.view()] == [48, 50]
    assert [store.event_at(p).seq for p in store._quiet] == [48, 50]


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


@given(
    cap=st.integers(1, 12),
    payload_cap=st.integers(1, 40),
    plan=batches,
    change_at=st.integers(0, 12),
    chosen=filters,
)
def test_view_always_matches_the_obvious_model(
    cap: int,
    payload_cap: int,
    plan: list[list[tuple[int, bool, bytes]]],
    change_at: int,
    chosen: tuple[set[int] | None, set[str] | None, str],
) -> None:
    store = EventStore(cap=cap, payload_cap=payload_cap)
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
        assert list(store.view()) == model_view(events, cap, conns, kinds, search, payload_cap)
        kept = retained(events, cap, payload_cap)
        assert store.payload_bytes == sum(len(payload_of(ev) or b"") for ev in kept)
    assert store.total_events == len(events)
    assert store.dropped == len(events) - len(retained(events, cap, payload_cap))


ADDRESSES = [LOCAL, REMOTE, Address("::1", 8080), Address("Example.COM", 80), None]
KINDS = ["recv", "send", "error", "listen", "accept", "close"]


def mixed_event(seq: int, kind: str, conn: int, data: bytes, address: Address | None) -> Event:
    """Any kind of event, its text fields drawn from ``data`` so that searches can hit them."""
    text = data.decode("utf-8", "replace")
    match kind:
        case "recv" | "send":
            return data_event(seq, conn, sent=kind == "send", data=data)
        case "error":
            return Error(
                seq=seq,
                mono=0.0,
                wall=1.7e9,
                conn=conn,
                side=Side.CLIENT,
                remote=address,
                operation="connect",
                errno=None,
                message=f"Refused {text}",
                hint=text,
            )
        case "listen":
            return Listening(
                seq=seq,
                mono=0.0,
                wall=1.7e9,
                conn=conn,
                side=Side.LISTENER,
                local=address,
                backlog=len(data),
            )
        case "accept":
            return Accepted(
                seq=seq,
                mono=0.0,
                wall=1.7e9,
                conn=conn,
                side=Side.PEER,
                local=LOCAL,
                remote=address,
                listener=len(data),
            )
        case _:
            return Closed(
                seq=seq,
                mono=0.0,
                wall=1.7e9,
                conn=conn,
                side=Side.PEER,
                local=address,
                by=Closer.PEER,
            )


payloads = st.sampled_from(
    [b"ab", b"AB\n", b"GET /\r\n", b"\x00\x1b[1m", b"C:\\r\\n", "Café".encode(), b"x" * 5000]
) | st.binary(max_size=6)
mixed_batches = st.lists(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 12), payloads, st.sampled_from(ADDRESSES)),
        max_size=9,
    ),
    max_size=10,
)
needles = st.sampled_from(
    [
        "ab",
        "\\r\\n",
        "\\x00",
        "\\x1b[",
        "\\\\",
        "\\x0",
        "x1b",
        "é",
        "#1",
        "#12",
        "recv",
        "e",
        "127.0.0.1:5000",
        "[::1]",
        "example.com",
        "refused",
        "FIN by",
        "RST by",
        "backlog 6",
        "xxx",
    ]
) | st.text(alphabet="aAbé#\\xr0n1 :.[", min_size=1, max_size=4)


@given(
    cap=st.integers(1, 15),
    plan=mixed_batches,
    change_at=st.integers(0, 10),
    conns=st.none() | st.sets(st.integers(0, 12)),
    kinds=st.none() | st.sets(st.sampled_from(KINDS)),
    search=needles,
)
def test_live_search_agrees_with_a_rescan_and_the_model(
    cap: int,
    plan: list[list[tuple[str, int, bytes, Address | None]]],
    change_at: int,
    conns: set[int] | None,
    kinds: set[str] | None,
    search: str,
) -> None:
    """Appending under a search, searching again and a fresh store all show the model's rows."""
    store = EventStore(cap=cap)
    events: list[Event] = []
    chosen: tuple[set[int] | None, set[str] | None, str] = (None, None, "")
    for index, batch in enumerate(plan):
        if index == change_at:
            chosen = (conns, kinds, search)
            store.set_filter(conns, kinds)
            store.set_search(search)
        new = [mixed_event(len(events) + i, *spec) for i, spec in enumerate(batch)]
        events += new
        store.append(new)
        assert list(store.view()) == model_view(events, cap, *chosen)
    live = list(store.view())
    store.set_search(chosen[2])
    assert list(store.view()) == live
    fresh = EventStore(cap=cap)
    fresh.set_filter(chosen[0], chosen[1])
    fresh.append(events)
    fresh.set_search(chosen[2])
    assert list(fresh.view()) == live


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
    store.set_search("#3")
    assert store.visible_count == count // 10
    store.set_search("X")
    assert store.visible_count == count
