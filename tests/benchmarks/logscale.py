"""A million events in the log: memory per event, filter and search times, jumping the widget.

Two fresh processes: one fills a bare ``EventStore`` and reads RSS before and after (so the
figure is what the store really keeps, not what the interpreter already had); the other fills
the ``EventLog`` of a headless app and times Home/End and filters to the first frame showing
them. Events mimic a flood: 16-byte payloads, nine receives to one send, over ten connections,
with the shared Address objects the engine would hand out.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.benchmarks.common import Child, Figure, below, rss_bytes, say, table

FULL_EVENTS = 1_000_000
QUICK_EVENTS = 200_000
BATCH = 5000
BYTES_TARGET = 300
MS_TARGET = 200.0
JUMPS = 5


def make_batch(first: int, count: int) -> list[Any]:
    from workbench.events import Address, Received, Sent, Side

    local = Address("127.0.0.1", 5000)
    remotes = [Address("127.0.0.1", 40000 + conn) for conn in range(10)]
    now = time.time()
    batch = []
    for seq in range(first, first + count):
        cls = Sent if seq % 10 == 9 else Received
        conn = seq % 10
        batch.append(
            cls(
                seq=seq + 1,
                mono=seq / 1e6,
                wall=now + seq / 1e6,
                conn=conn + 2,
                side=Side.PEER,
                local=local,
                remote=remotes[conn],
                data=b"msg %011d\n" % seq,
            )
        )
    return batch


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def store_child(count: int) -> None:
    from workbench.ui.event_store import EventStore

    gc.collect()
    before = rss_bytes()
    store = EventStore(cap=max(count, FULL_EVENTS))
    payload = 0
    appending = 0.0
    for first in range(0, count, BATCH):
        batch = make_batch(first, min(BATCH, count - first))
        payload += sum(len(event.data) for event in batch)
        appending += timed(lambda b=batch: store.append(b))
    gc.collect()
    grown = rss_bytes() - before
    result: dict[str, Any] = {
        "events": len(store),
        "append_ms": appending,
        "rss_per_event": grown / count,
        "payload_per_event": payload / count,
        "kind_ms": timed(lambda: store.set_filter(None, {"send"})),
        "kind_rows": store.visible_count,
        "unfilter_ms": timed(lambda: store.set_filter(None, None)),
        "conn_ms": timed(lambda: store.set_filter({3}, None)),
        "conn_rows": store.visible_count,
    }
    store.set_filter(None, None)
    before_search = rss_bytes()
    result["search_ms"] = timed(lambda: store.set_search("00042"))
    result["search_rows"] = store.visible_count
    result["search_rss_mb"] = (rss_bytes() - before_search) / 1e6
    result["search_again_ms"] = timed(lambda: store.set_search("00043"))
    result["unsearch_ms"] = timed(lambda: store.set_search(""))
    say("RESULT", result)


def widget_child(count: int) -> None:
    import asyncio

    from tests.benchmarks.apphost import FrameClock, run_app, wait_for
    from workbench.ui.app import WorkbenchApp
    from workbench.ui.event_store import EventStore
    from workbench.ui.widgets.event_log import EventLog

    async def body(app: WorkbenchApp, clock: FrameClock) -> dict[str, Any]:
        log = app.query_one(EventLog)
        default_cap = log.store.cap
        log.store = EventStore(cap=max(count, FULL_EVENTS))  # the app's own cap is smaller
        adding = 0.0
        for first in range(0, count, BATCH):
            batch = make_batch(first, min(BATCH, count - first))
            adding += timed(lambda b=batch: log.add_events(b))
            await asyncio.sleep(0)  # let the app paint between batches, as it would live
        log.focus()
        await wait_for(lambda: app.focused is log, "log focus")
        await clock.frame_after(0, clock.expect(lambda: True), 10)
        last = log.store.visible_count - 1
        home, end = [], []

        def at_top() -> bool:
            return log.cursor_row == 0 and log.scroll_y == 0

        def at_end() -> bool:
            return log.cursor_row == last and log.scroll_y >= log.max_scroll_y

        for _ in range(JUMPS):
            home.append(await clock.key("home", at_top))
            end.append(await clock.key("end", at_end))
        changes: dict[str, tuple[Callable[[], None], int | None]] = {
            "kind": (lambda: log.set_filter(None, {"send"}), log.store.kind_counts["send"]),
            "clear": (lambda: log.set_filter(None, None), count),
            "search": (lambda: log.set_search("00042"), None),
            "unsearch": (lambda: log.set_search(""), count),
        }
        filters = {}
        for name, (change, rows) in changes.items():

            def shows(rows: int | None = rows) -> bool:
                return rows is None or log.store.visible_count == rows

            start = time.monotonic()
            future = clock.expect(shows)
            change()
            filters[name] = await clock.frame_after(start, future, 30)
        return {
            "default_cap": default_cap,
            "add_ms": adding,
            "home_ms": [v * 1000 if v is not None else None for v in home],
            "end_ms": [v * 1000 if v is not None else None for v in end],
            "filters_ms": {k: v * 1000 if v is not None else None for k, v in filters.items()},
        }

    run_app(body)


def bench(quick: bool) -> list[Figure]:
    count = QUICK_EVENTS if quick else FULL_EVENTS
    child = Child.python("logscale", "store", count)
    store = child.result(timeout=300)
    child.wait(30)
    child = Child.python("logscale", "widget", count)
    widget = child.result(timeout=300)
    child.wait(60)
    beyond = store["rss_per_event"] - store["payload_per_event"]
    jumps = [v if v is not None else 10_000.0 for v in widget["home_ms"] + widget["end_ms"]]
    f = widget["filters_ms"]
    rows = [
        ["events held", store["events"], "events", "-"],
        ["append into the store (all batches)", store["append_ms"], "ms", "-"],
        ["store append rate", store["events"] / store["append_ms"] * 1000, "events/s", "-"],
        ["RSS growth per event", store["rss_per_event"], "B", "-"],
        ["payload per event", store["payload_per_event"], "B", "-"],
        ["RSS per event beyond payload", beyond, "B", f"< {BYTES_TARGET}"],
        [
            f"store: kind filter (send, {store['kind_rows']:,} rows)",
            store["kind_ms"],
            "ms",
            "< 200",
        ],
        ["store: clear filter", store["unfilter_ms"], "ms", "< 200"],
        [f"store: conn filter (#3, {store['conn_rows']:,} rows)", store["conn_ms"], "ms", "< 200"],
        [
            f"store: search, first ({store['search_rows']:,} rows)",
            store["search_ms"],
            "ms",
            "< 200",
        ],
        ["store: RSS added by the search cache", store["search_rss_mb"], "MB", "-"],
        ["store: search again (cache warm)", store["search_again_ms"], "ms", "< 200"],
        ["store: clear search", store["unsearch_ms"], "ms", "< 200"],
        ["app log: default cap (events kept)", widget["default_cap"], "events", "-"],
        ["app log: add_events, all batches", widget["add_ms"], "ms", "-"],
        ["app log: Home → frame, worst of 5", max(widget["home_ms"] or [None]), "ms", "< 200"],
        ["app log: End → frame, worst of 5", max(widget["end_ms"] or [None]), "ms", "< 200"],
        ["app log: kind filter → frame", f["kind"], "ms", "< 200"],
        ["app log: clear filter → frame", f["clear"], "ms", "< 200"],
        ["app log: search → frame", f["search"], "ms", "< 200"],
        ["app log: clear search → frame", f["unsearch"], "ms", "< 200"],
    ]
    table(
        f"logscale: {count:,} events, batches of {BATCH:,}",
        ["figure", "value", "unit", "target"],
        rows,
    )
    filters = [store["kind_ms"], store["conn_ms"], store["unfilter_ms"], f["kind"], f["clear"]]
    searches = [store["search_ms"], store["unsearch_ms"], f["search"], f["unsearch"]]
    worst_filter = max(v if v is not None else 10_000.0 for v in filters)
    worst_search = max(v if v is not None else 10_000.0 for v in searches)
    return [
        below("logscale", "RSS/event beyond payload", beyond, "B", BYTES_TARGET),
        below("logscale", "worst Home/End → frame", max(jumps), "ms", MS_TARGET),
        below("logscale", "worst kind/conn filter", worst_filter, "ms", MS_TARGET),
        below("logscale", "worst search (first, cold)", worst_search, "ms", MS_TARGET),
    ]


if __name__ == "__main__":
    role, size = sys.argv[1], int(sys.argv[2])
    if role == "store":
        store_child(size)
    elif role == "widget":
        widget_child(size)
    else:
        raise SystemExit(f"unknown role {role}")
