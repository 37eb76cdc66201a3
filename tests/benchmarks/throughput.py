"""One bulk TCP stream into several different receivers, all fed by the same socat sender.

Only the receiving side changes between variants, so the ratios to socat → socat say what
the engine, the recorder and the UI cost. Every receiver is its own process and times itself
from accepting the connection to holding the last byte (socat through its microsecond log).

Before each variant the page cache is warmed by writing and deleting a file as big as the
recording. On a VM the guest hands memory it has not used for a couple of seconds back to the
host, and writing a file into such cold memory runs several times slower (measured here: about
450 MB/s instead of 4-5 GB/s). Without the warm-up, whichever variant happened to meet cold
memory looked slow, and that is the hypervisor, not the receiver.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.benchmarks.common import (
    HOST,
    SOCAT,
    Child,
    Figure,
    at_least,
    free_port,
    mb_per_s,
    say,
    table,
)

RECV_SIZE = 64 * 1024
FULL_BYTES = 1 << 30
QUICK_BYTES = 64 << 20
ROUNDS = 2
TARGETS = {"engine, recording off": 0.9, "engine, recording on": 0.5, "app, headless": 0.5}


def socat_sender(port: int, total: int) -> Child:
    return Child([SOCAT, "-u", f"FILE:/dev/zero,readbytes={total}", f"TCP:{HOST}:{port}"])


def _socat_time(line: str) -> float:
    stamp = " ".join(line.split()[:2])
    return datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S.%f").timestamp()


def run_socat(total: int, timeout: float, target: str = "OPEN:/dev/null") -> dict[str, Any]:
    """socat → /dev/null; its -lu log stamps the accept and the EOF to the microsecond."""
    port = free_port()
    receiver = Child(
        [
            SOCAT,
            "-d",
            "-d",
            "-lu",
            "-u",
            f"TCP-LISTEN:{port},bind={HOST},reuseaddr",
            target,
        ]
    )
    sender = None
    try:
        receiver.err.expect("listening on", 10)
        sender = socat_sender(port, total)
        accepted = _socat_time(receiver.err.expect("accepting connection", timeout))
        eof = _socat_time(receiver.err.expect("is at EOF", timeout))
        sender.wait(timeout)
        receiver.wait(timeout)
    finally:
        stop(sender, receiver)
    return {"seconds": eof - accepted, "bytes": total, "events": None}


def run_socat_to_file(total: int, timeout: float) -> dict[str, Any]:
    """What storing the stream costs a C program: the fair comparison for recording on."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    path = folder / "socat.bin"
    try:
        result = run_socat(total, timeout, f"OPEN:{path},creat,excl")
        result["file_mb"] = path.stat().st_size / 1e6
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return result


def warm_page_cache(total: int) -> None:
    """Write and delete a file as big as a recording, so the next one reuses warm memory."""
    with tempfile.TemporaryFile(prefix="workbench-bench-warm-") as scratch:
        chunk = bytes(1 << 20)
        for _ in range(total // len(chunk) + 16):
            scratch.write(chunk)
        scratch.flush()


def run_child(role: str, total: int, timeout: float) -> dict[str, Any]:
    receiver = Child.python("throughput", role, total, timeout)
    sender = None
    try:
        sender = socat_sender(receiver.port(), total)
        result = receiver.result(timeout)
        sender.wait(timeout)
        receiver.wait(timeout)
    finally:
        stop(sender, receiver)
    return result


def run_disk(total: int, timeout: float) -> dict[str, Any]:
    """The disk's own ceiling: a recording of N payload bytes is N bytes of file, plus lines."""
    child = Child.python("throughput", "disk", total, timeout)
    try:
        result = child.result(timeout)
        child.wait(timeout)
    finally:
        stop(child)
    return result


def stop(*children: Child | None) -> None:
    """A failed variant must not leave a listener or a sender behind for the next one."""
    for child in children:
        if child is not None:
            child.stop()


VARIANTS: list[tuple[str, Callable[[int, float], dict[str, Any]]]] = [
    ("socat", run_socat),
    ("socat → file", run_socat_to_file),
    ("python blocking sockets", lambda n, t: run_child("python", n, t)),
    ("engine, recording off", lambda n, t: run_child("engine", n, t)),
    ("engine, recording on", lambda n, t: run_child("engine-record", n, t)),
    ("engine, recording on, file in RAM", lambda n, t: run_child("engine-record-ram", n, t)),
    ("disk alone, writing that file", lambda n, t: run_disk(n, t)),
    ("app, headless", lambda n, t: run_child("app", n, t)),
]


def measure(name: str, run: Callable[[int, float], dict[str, Any]], total: int) -> dict[str, Any]:
    try:
        return run(total, 120.0)
    except Exception as exc:  # report the variant as failed, keep measuring the others
        print(f"throughput: {name} failed: {exc}", file=sys.stderr)
        return {"seconds": math.nan, "bytes": None}


def bench(quick: bool) -> list[Figure]:
    """Rounds are interleaved so a burst of load from elsewhere hits one run, not a variant."""
    total = QUICK_BYTES if quick else FULL_BYTES
    rounds = 1 if quick else ROUNDS
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in VARIANTS}
    for _ in range(rounds):
        for name, run in VARIANTS:
            warm_page_cache(total)
            runs[name].append(measure(name, run, total))
    best = {name: min(results, key=_seconds) for name, results in runs.items()}
    base = mb_per_s(total, best["socat"]["seconds"])
    rows, figures = [], []
    for name, result in best.items():
        rate = mb_per_s(total, result["seconds"])
        events = result.get("events")
        worst = mb_per_s(total, max(_seconds(r) for r in runs[name]))
        complete = all(r["bytes"] == total for r in runs[name])
        ratio = rate / base
        per_event = total / events if events else None
        busy = result["cpu"] / result["seconds"] * 100 if "cpu" in result else None
        rows.append([name, complete, result["seconds"], rate, ratio, worst, busy, events])
        rows[-1] += [per_event, result.get("file_mb")]
        if name in TARGETS:
            target = TARGETS[name]
            figures.append(at_least("throughput", f"{name} / socat", ratio, "x", target))
    headers = ["receiver", "all bytes", "best s", "MB/s", "x socat", "worst MB/s", "CPU %"]
    table(
        f"throughput: {total / 2**20:,.0f} MiB, one stream over {HOST}, socat sender,"
        f" best of {rounds}",
        [*headers, "recv events", "B/event", "file MB"],
        rows,
    )
    return figures


def _seconds(result: dict[str, Any]) -> float:
    seconds = result["seconds"]
    return math.inf if math.isnan(seconds) else float(seconds)


# -- children -------------------------------------------------------------------------------


def python_receiver(total: int, timeout: float) -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, 0))
        server.listen(1)
        server.settimeout(timeout)
        say("PORT", server.getsockname()[1])
        cpu = time.process_time()
        conn, _ = server.accept()
        start = time.monotonic()
        buffer = bytearray(RECV_SIZE)
        got = 0
        with conn:
            conn.settimeout(timeout)
            while got < total:
                n = conn.recv_into(buffer)
                if not n:
                    break
                got += n
        seconds, cpu = time.monotonic() - start, time.process_time() - cpu
        say("RESULT", {"seconds": seconds, "bytes": got, "events": None, "cpu": cpu})


def disk_writer(total: int) -> None:
    """Writes as many bytes as the recording of ``total`` payload bytes takes, and times it."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    path = folder / "disk.bin"
    chunk, left = bytes(1 << 20), total
    start = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while left > 0:
            left -= os.write(fd, chunk[: min(left, len(chunk))])
    finally:
        os.close(fd)
    seconds = time.monotonic() - start
    result = {"seconds": seconds, "bytes": total, "file_mb": path.stat().st_size / 1e6}
    path.unlink()
    folder.rmdir()
    say("RESULT", result)


def engine_receiver(
    total: int, timeout: float, record: bool, folder_root: str | None = None
) -> None:
    import trio

    from workbench.core import Engine
    from workbench.events import Accepted, Received
    from workbench.recording.recorder import Recorder
    from workbench.recording.writer import RecordingWriter

    folder = Path(tempfile.mkdtemp(prefix="workbench-bench-", dir=folder_root))
    path = folder / "throughput.wbrec"

    async def main() -> dict[str, Any]:
        async with trio.open_nursery() as nursery, Engine() as engine:
            recorder = Recorder(RecordingWriter.open(path)) if record else None
            recorded = trio.Event()
            if recorder is not None:

                async def record_all() -> None:
                    await recorder.run(engine.hub.subscribe())
                    recorded.set()

                nursery.start_soon(record_all)
            events = engine.hub.subscribe()
            listener = await engine.listen(HOST, 0)
            say("PORT", listener.local.port)
            cpu = time.process_time()
            got = count = 0
            start = 0.0
            with trio.fail_after(timeout):
                async for event in events:
                    if isinstance(event, Accepted):
                        start = event.mono
                    elif isinstance(event, Received):
                        got += len(event.data)
                        count += 1
                        if got >= total:
                            break
                events.close()
                if recorder is not None:  # the file holds every event only once it is closed
                    recorder.stop()
                    await recorded.wait()
            seconds, cpu = time.monotonic() - start, time.process_time() - cpu
            engine.shutdown()
            nursery.cancel_scope.cancel()
        return {"seconds": seconds, "bytes": got, "events": count, "cpu": cpu}

    result = trio.run(main)
    if record:
        result["file_mb"] = path.stat().st_size / 1e6
    path.unlink(missing_ok=True)
    folder.rmdir()
    say("RESULT", result)


def app_receiver(total: int, timeout: float) -> None:
    from tests.benchmarks.apphost import FrameClock, listen, run_app, wait_for
    from workbench.ui.app import WorkbenchApp
    from workbench.ui.widgets.event_log import EventLog

    async def body(app: WorkbenchApp, clock: FrameClock) -> dict[str, Any]:
        say("PORT", await listen(app))
        cpu = time.process_time()
        store = app.query_one(EventLog).store
        end = await wait_for(lambda: store.bytes_in >= total, "every byte in the log", timeout)
        peer = app.model.peers_of(app.listener_id)[0]
        return {
            "seconds": end - peer.opened_at,
            "cpu": time.process_time() - cpu,
            "bytes": store.bytes_in,
            "events": store.kind_counts["recv"],
        }

    run_app(body)


if __name__ == "__main__":
    role, size, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if role == "python":
        python_receiver(size, limit)
    elif role in ("engine", "engine-record"):
        engine_receiver(size, limit, record=role == "engine-record")
    elif role == "engine-record-ram":  # tmpfs: what recording costs us, without the disk
        engine_receiver(size, limit, record=True, folder_root="/dev/shm")
    elif role == "disk":
        disk_writer(size)
    elif role == "app":
        app_receiver(size, limit)
    else:
        raise SystemExit(f"unknown role {role}")
