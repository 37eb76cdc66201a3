"""A flood of tiny messages into the headless app: event rate, completeness, key latency.

A separate process sends 16-byte lines with TCP_NODELAY while the app's composer is typed
into, one key at a time: once flat out (the kernel then coalesces lines into big reads, so few
events arrive) and once paced at 25,000 lines/s (closer to one event per line, the load the
log must survive). Each key is timed from entering the app's queue to the first composed frame
whose Input shows it: the delay a user feels while a chatty peer floods the log. At the end the
log's byte total must equal what the sender sent, or events went missing.
"""

from __future__ import annotations

import asyncio
import select
import socket
import sys
import time
from typing import Any

from tests.benchmarks.common import (
    HOST,
    Child,
    Figure,
    at_least,
    below,
    percentile,
    say,
    table,
)

MESSAGE = b"0123456789abcde\n"
KEY_SAMPLES = 50
P95_TARGET_MS = 100.0
OFFERED_TARGET = 20_000
PACED_RATE = 25_000
"""Flat out, TCP coalesces lines into big reads; paced, each line tends to be its own event."""


def run_mode(seconds: float, rate: int) -> dict[str, Any]:
    app = Child.python("events", "app", seconds, rate)
    try:
        return app.result(timeout=120)
    finally:
        app.wait(60)


def bench(quick: bool) -> list[Figure]:
    seconds = 2.0 if quick else 5.0
    modes = {
        "flat out": run_mode(seconds, 0),
        f"paced {PACED_RATE:,}/s": run_mode(seconds, PACED_RATE),
    }
    rows: list[list[object]] = [[label, *values, unit] for label, values, unit in _rows(modes)]
    table(
        f"events: {len(MESSAGE)}-byte lines, TCP_NODELAY, from another process into the app",
        ["figure", *modes, "unit"],
        rows,
    )
    figures = []
    for mode, result in modes.items():
        p95 = percentile(result["latencies_ms"], 95)
        offered = result["sent_messages"] / result["send_seconds"]
        lossless = result["sent_bytes"] == result["bytes_in"]
        figures += [
            below("events", f"{mode}: key → frame p95", p95, "ms", P95_TARGET_MS),
            at_least("events", f"{mode}: msgs/s offered", offered, "msgs/s", OFFERED_TARGET),
            Figure("events", f"{mode}: recv events/s into log", result["recv_event_rate"], "/s"),
            Figure("events", f"{mode}: log bytes == sent", float(lossless), "", "equal", lossless),
        ]
    return figures


def _rows(modes: dict[str, dict[str, Any]]) -> list[tuple[str, list[object], str]]:
    results = list(modes.values())

    def each(fn: Any) -> list[object]:
        return [fn(r) for r in results]

    return [
        ("sender busy", each(lambda r: r["send_seconds"]), "s"),
        ("messages offered", each(lambda r: r["sent_messages"]), "msgs"),
        ("offered rate", each(lambda r: r["sent_messages"] / r["send_seconds"]), "msgs/s"),
        ("recv events in the log", each(lambda r: r["recv_events"]), "events"),
        ("recv event rate reaching the log", each(lambda r: r["recv_event_rate"]), "events/s"),
        ("bytes per recv event", each(lambda r: r["bytes_in"] / max(r["recv_events"], 1)), "B"),
        ("bytes sent", each(lambda r: r["sent_bytes"]), "B"),
        ("bytes in the log (store.bytes_in)", each(lambda r: r["bytes_in"]), "B"),
        ("log caught up after the sender stopped", each(lambda r: r["catch_up_ms"]), "ms"),
        ("rows dropped by the log's cap", each(lambda r: r["dropped"]), "events"),
        ("key → frame p50", each(lambda r: percentile(r["latencies_ms"], 50)), "ms"),
        ("key → frame p95", each(lambda r: percentile(r["latencies_ms"], 95)), "ms"),
        ("key → frame max", each(lambda r: max(r["latencies_ms"])), "ms"),
        ("sender still flooding at the last key", each(lambda r: r["flood_during_keys"]), ""),
    ]


# -- children -------------------------------------------------------------------------------


def sender(port: int, max_seconds: float, rate: int) -> None:
    """Send lines until told to stop on stdin (checked between bursts), or max_seconds pass.

    ``rate`` 0 sends flat out; otherwise each line waits for its slot, spinning rather than
    sleeping because sleep cannot resolve 40 µs.
    """
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(max_seconds + 30)
        count = 0
        start = time.monotonic()
        deadline = start + max_seconds
        interval = 1 / rate if rate else 0.0
        slot = time.perf_counter()
        while True:
            for _ in range(256):
                if interval:
                    while (now := time.perf_counter()) < slot:
                        pass
                    slot = max(slot + interval, now - 0.01)  # fell behind: no endless burst
                sock.sendall(MESSAGE)
            count += 256
            if select.select([sys.stdin], [], [], 0)[0] or time.monotonic() > deadline:
                break
        seconds = time.monotonic() - start
        sock.shutdown(socket.SHUT_WR)
        say("RESULT", {"messages": count, "bytes": count * len(MESSAGE), "seconds": seconds})


def app_under_flood(seconds: float, rate: int) -> None:
    from tests.benchmarks.apphost import (
        FrameClock,
        child_result,
        listen,
        ms,
        run_app,
        typing_latencies,
        wait_for,
    )
    from workbench.ui.app import WorkbenchApp
    from workbench.ui.widgets.event_log import EventLog

    async def body(app: WorkbenchApp, clock: FrameClock) -> dict[str, Any]:
        port = await listen(app)
        flood = Child.python("events", "sender", port, 60, rate, stdin=True)
        store = app.query_one(EventLog).store
        await wait_for(lambda: store.bytes_in > 0, "the first flood bytes")
        began = time.monotonic()
        latencies = await typing_latencies(app, clock, KEY_SAMPLES)
        flooding = flood.process.poll() is None  # the sender only stops when told to
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        flood.tell("stop")
        sent = await child_result(flood, 60)
        stopped = time.monotonic()
        done = await wait_for(lambda: store.bytes_in >= sent["bytes"], "every byte", 60)
        peer = app.model.peers_of(app.listener_id)[0]
        flood.wait(30)
        return {
            "send_seconds": sent["seconds"],
            "sent_messages": sent["messages"],
            "sent_bytes": sent["bytes"],
            "bytes_in": store.bytes_in,
            "recv_events": store.kind_counts["recv"],
            "recv_event_rate": store.kind_counts["recv"] / (done - peer.opened_at),
            "catch_up_ms": (done - stopped) * 1000,
            "dropped": store.dropped,
            "latencies_ms": ms(latencies),
            "flood_during_keys": flooding,
        }

    run_app(body)


if __name__ == "__main__":
    if sys.argv[1] == "sender":
        sender(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "app":
        app_under_flood(float(sys.argv[2]), int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown role {sys.argv[1]}")
