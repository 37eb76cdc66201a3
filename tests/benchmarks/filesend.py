"""Sending a file: one file into the same socat sink, sent by socat and by the engine.

Only the sender changes between variants, so the ratio to ``socat -u FILE TCP:...`` says what
streaming a file through the engine costs (reads behind a low-water mark, one ``Sent`` event
per kernel write). The sink is socat writing to /dev/null; its microsecond log times each run
from accepting the connection to the sender's EOF, as in the throughput benchmark. The file is
written once before the first run and read from the page cache by every variant alike.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
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
from tests.benchmarks.throughput import _socat_time, stop

FULL_BYTES = 1 << 30
QUICK_BYTES = 64 << 20
ROUNDS = 2
TARGET = 0.8
BLOCK = 1 << 20


def make_file(folder: Path, total: int) -> Path:
    """Real blocks (not a sparse file), so every variant reads the same cached pages."""
    path = folder / "payload.bin"
    block = os.urandom(BLOCK)
    with path.open("wb") as f:
        for _ in range(total // BLOCK):
            f.write(block)
        f.write(block[: total % BLOCK])
    return path


def run_sink(
    sender: Callable[[int], Child], reports: bool, total: int, timeout: float
) -> dict[str, Any]:
    """A socat sink to /dev/null; ``sender(port)`` starts whichever sender is measured, and
    one that ``reports`` says how many bytes it sent, with its CPU time and events."""
    port = free_port()
    listen = f"TCP-LISTEN:{port},bind={HOST},reuseaddr"
    sink = Child([SOCAT, "-d", "-d", "-lu", "-u", listen, "OPEN:/dev/null"])
    child = None
    try:
        sink.err.expect("listening on", 10)
        child = sender(port)
        accepted = _socat_time(sink.err.expect("accepting connection", timeout))
        eof = _socat_time(sink.err.expect("is at EOF", timeout))
        result: dict[str, Any] = {"seconds": eof - accepted, "bytes": total}
        if reports:
            result.update(child.result(timeout))
        child.wait(timeout)
        sink.wait(timeout)
    finally:
        stop(child, sink)
    return result


def socat_sender(path: Path) -> Callable[[int], Child]:
    return lambda port: Child([SOCAT, "-u", f"FILE:{path}", f"TCP:{HOST}:{port}"])


def engine_sender(path: Path, timeout: float) -> Callable[[int], Child]:
    return lambda port: Child.python("filesend", "engine", port, path, timeout)


def measure(name: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return run()
    except Exception as exc:  # report the variant as failed, keep measuring the others
        print(f"filesend: {name} failed: {exc}", file=sys.stderr)
        return {"seconds": math.nan, "bytes": None}


def bench(quick: bool) -> list[Figure]:
    """Rounds are interleaved so a burst of load from elsewhere hits one run, not a variant."""
    total = QUICK_BYTES if quick else FULL_BYTES
    rounds = 1 if quick else ROUNDS
    timeout = 120.0
    with tempfile.TemporaryDirectory(prefix="workbench-bench-file-") as folder:
        path = make_file(Path(folder), total)
        variants: list[tuple[str, Callable[[int], Child], bool]] = [
            ("socat -u FILE TCP", socat_sender(path), False),
            ("engine send_file", engine_sender(path, timeout), True),
        ]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
        for _ in range(rounds):
            for name, sender, reports in variants:
                run = partial(run_sink, sender, reports, total, timeout)
                runs[name].append(measure(name, run))
    best = {name: min(results, key=_seconds) for name, results in runs.items()}
    base = mb_per_s(total, best["socat -u FILE TCP"]["seconds"])
    rows, figures = [], []
    for name, result in best.items():
        rate = mb_per_s(total, result["seconds"])
        worst = mb_per_s(total, max(_seconds(r) for r in runs[name]))
        complete = all(r["bytes"] == total for r in runs[name])
        busy = result["cpu"] / result["seconds"] * 100 if "cpu" in result else None
        rows.append([name, complete, result["seconds"], rate, rate / base, worst, busy])
        rows[-1].append(result.get("events"))
    size = "1 GiB" if total == FULL_BYTES else f"{total >> 20} MiB"
    figure = f"{size} file to a socat sink / socat"
    figures.append(at_least("filesend", figure, rows[1][4], "x", TARGET))
    table(
        f"filesend: a {total / 2**20:,.0f} MiB file to a socat sink over {HOST}, best of {rounds}",
        ["sender", "all bytes", "best s", "MB/s", "x socat", "worst MB/s", "CPU %", "send events"],
        rows,
    )
    return figures


def _seconds(result: dict[str, Any]) -> float:
    seconds = result["seconds"]
    return math.inf if math.isnan(seconds) else float(seconds)


# -- child ----------------------------------------------------------------------------------


def engine_file_sender(port: int, path: Path, timeout: float) -> None:
    """Connect, stream the file, half-close so the sink sees EOF, and wait for its close."""
    import trio

    from workbench.core import Engine
    from workbench.core.file_send import Outcome
    from workbench.events import Closed, Sent

    async def main() -> dict[str, Any]:
        async with trio.open_nursery() as nursery, Engine() as engine:
            sends = 0
            closed = trio.Event()
            events = engine.hub.subscribe()

            async def count() -> None:  # a consumer, as the UI or recorder would be
                nonlocal sends
                async for event in events:
                    if isinstance(event, Sent):
                        sends += 1
                    elif isinstance(event, Closed):
                        closed.set()

            nursery.start_soon(count)
            cpu = time.process_time()
            with trio.fail_after(timeout):
                conn = await engine.connect(HOST, port)
                job = await engine.send_file(path, [conn.id])
                engine.half_close(conn.id)
                await closed.wait()
            cpu = time.process_time() - cpu
            engine.shutdown()
            nursery.cancel_scope.cancel()
        ok = job.outcome is Outcome.DONE
        return {"bytes": job.sent if ok else None, "events": sends, "cpu": cpu}

    say("RESULT", trio.run(main))


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "engine":
        engine_file_sender(int(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(f"unknown role {role}")
