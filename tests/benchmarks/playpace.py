"""Watch-screen playback pace: recorded seconds played per wall second, and CPU, at 1x and 100x.

    python -m tests.benchmarks.playpace [--quick] [--tree DIR] [--speeds 1,100]

A dense recording (245,000 small events 1 to 5 ms apart, about 12 recorded minutes) is written
once with the real writer, then each speed runs in a fresh child process: the real app, headless,
watching it. After a second of warm-up the child samples the playback position over a window
and reports the recorded seconds played per wall second (what 1x and 100x promise), the
process's CPU time over the same window, and at high speeds how long the whole recording took.

``--tree DIR`` runs the children against another checkout's ``workbench`` (for example the
main branch, to compare before and after); only ``Playback(events, speed=...)`` and its
``position`` are used, so older code serves as well. Numbers only: a shared machine moves them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import ROOT, Child, Figure, say, table

EVENTS = 245_000
QUICK_EVENTS = 50_000
WARMUP = 1.0
WINDOW = 5.0
FINISH_LIMIT = 60.0


def recording_path(events: int) -> Path:
    return Path(tempfile.gettempdir()) / f"workbench-playpace-{events}.jsonl"


def write_recording(path: Path, events: int) -> None:
    """Small payloads, gaps cycling 1..5 ms (3 ms on average), four connections."""
    from workbench.events import Received, Sent, Side
    from workbench.recording.writer import RecordingWriter

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    mono = 0.0
    with RecordingWriter.open(partial, started_wall=1_700_000_000.0, started_mono=0.0) as writer:
        for seq in range(events):
            kind = Sent if seq % 2 else Received
            data = b"GET /item/%d HTTP/1.1\r\n" % seq
            writer.write(
                kind(
                    seq=seq,
                    mono=mono,
                    wall=1_700_000_000.0 + mono,
                    conn=1 + seq % 4,
                    side=Side.CLIENT,
                    data=data,
                )
            )
            mono += 0.001 * (1 + seq % 5)
    partial.rename(path)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(path: str, speed: float, tree: str) -> None:
    """Runs in its own process: the app watching ``path`` at ``speed``; one RESULT line."""
    if tree:
        sys.path.insert(0, tree)  # before the first `workbench` import
    import workbench.ui.screens.watch as watch
    from workbench.recording import playback as playback_module
    from workbench.recording.reader import read_recording
    from workbench.ui.app import WorkbenchApp

    recording = read_recording(path)
    events = recording.events
    first = events[0].mono

    def played(position: int) -> float:
        return 0.0 if position == 0 else events[position - 1].mono - first

    real = playback_module.Playback
    watch.Playback = lambda evs: real(evs, speed=speed)  # type: ignore[assignment,misc]

    async def run() -> dict[str, Any]:
        app = WorkbenchApp(watch=recording)
        async with app.run_test(size=(120, 40)):
            playback = app.screen.playback  # type: ignore[attr-defined]
            started = time.monotonic()
            window: list[tuple[float, float, int]] = []  # (wall, cpu, position)
            finished: float | None = None
            while time.monotonic() - started < (FINISH_LIMIT if speed > 1 else WARMUP + WINDOW):
                await asyncio.sleep(0.02)
                now = time.monotonic()
                if WARMUP <= now - started <= WARMUP + WINDOW or (not window and playback.done):
                    window.append((now, cpu_seconds(), playback.position))
                if playback.done:
                    finished = now - started
                    break
            (wall_a, cpu_a, pos_a), (wall_b, cpu_b, pos_b) = window[0], window[-1]
            span = max(wall_b - wall_a, 1e-9)
            return {
                "pace": (played(pos_b) - played(pos_a)) / span,
                "cpu": 100 * (cpu_b - cpu_a) / span,
                "window": span,
                "finished": finished,
                "duration": played(len(events)),
                "events_per_s": (pos_b - pos_a) / span,
            }

    say("RESULT", asyncio.run(run()))


def measure(path: Path, speed: float, tree: str) -> dict[str, Any]:
    worker = Child.python("playpace", "child", path, speed, tree)
    try:
        return worker.result(timeout=FINISH_LIMIT + 120)
    finally:
        worker.stop()


def bench(quick: bool, tree: str = "", speeds: tuple[float, ...] = (1.0, 100.0)) -> list[Figure]:
    events = QUICK_EVENTS if quick else EVENTS
    path = recording_path(events)
    if not path.exists():
        write_recording(path, events)
    label = tree or str(ROOT)
    rows, figures = [], []
    for speed in speeds:
        result = measure(path, speed, tree)
        pace = result["pace"]
        finished = result["finished"]
        rows.append(
            [
                f"{speed:g}x",
                round(pace, 3),
                f"{pace / speed:.0%}",
                round(result["events_per_s"]),
                round(result["cpu"]),
                round(result["window"], 1),
                "-" if speed <= 1 else ("never" if finished is None else round(finished, 1)),
            ]
        )
        figures.append(Figure("playpace", f"{speed:g}x: recorded s per wall s", pace, "x"))
        figures.append(Figure("playpace", f"{speed:g}x: CPU", result["cpu"], "%"))
    table(
        f"playpace: {events:,} events ({result['duration']:.0f} recorded s) · code: {label}",
        ["speed", "recorded s/wall s", "of asked", "events/s", "CPU %", "over s", "all in s"],
        rows,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--tree", default="", help="another checkout's root to measure")
    parser.add_argument("--speeds", default="1,100", help="comma-separated, from 0.25 to 100")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    speeds = tuple(float(s) for s in args.speeds.split(","))
    bench(args.quick, str(Path(args.tree).resolve()) if args.tree else "", speeds)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        main()
