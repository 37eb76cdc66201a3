"""How long until workbench answers: ``--version``, and the app's first composed frame.

Times are taken from the parent's clock just before it spawns the process (CLOCK_MONOTONIC is
shared by every process), so they include the interpreter starting, which a user waits for
too. A bare ``python -c pass`` is measured alongside as the floor nothing can beat.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.common import ROOT, Child, Figure, say, table

VERSION_RUNS = 5


def version_command() -> list[str]:
    """The installed entry point when there is one next to this Python, else ``-m``."""
    script = shutil.which("workbench", path=str(Path(sys.executable).parent))
    return [script, "--version"] if script else [sys.executable, "-m", "workbench", "--version"]


def wall_ms(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr.strip()}")
    return elapsed


def first_frame() -> dict[str, float]:
    child = Child.python("startup", "app")
    result = child.result(timeout=60)
    child.wait(30)
    return {name: (value - child.started) * 1000 for name, value in result.items()}


def bench(quick: bool) -> list[Figure]:
    command = version_command()
    version = [wall_ms(command) for _ in range(VERSION_RUNS)]
    floor = [wall_ms([sys.executable, "-c", "pass"]) for _ in range(VERSION_RUNS)]
    runs = [first_frame() for _ in range(2 if quick else 3)]

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    shown = " ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command))
    rows = [
        [f"`{shown}`, median of {VERSION_RUNS}", statistics.median(version), "ms"],
        [f"`{shown}`, worst of {VERSION_RUNS}", max(version), "ms"],
        [f"`python -c pass`, median of {VERSION_RUNS} (floor)", statistics.median(floor), "ms"],
        [f"app: benchmark code running, median of {len(runs)}", median("main"), "ms"],
        ["app: Textual + workbench imported", median("imported"), "ms"],
        ["app: ready (run_test yields the pilot)", median("ready"), "ms"],
        ["app: first frame composed", median("frame"), "ms"],
    ]
    table("startup: from spawning the process", ["figure", "value", "unit"], rows)
    return [
        Figure("startup", "workbench --version (median)", statistics.median(version), "ms"),
        Figure("startup", "first frame (median)", median("frame"), "ms"),
    ]


def app_child() -> None:
    """Report monotonic instants; the parent subtracts its own spawn instant."""
    import asyncio

    main = time.monotonic()
    from tests.benchmarks.apphost import SIZE, FrameClock, wait_for
    from workbench.ui.app import WorkbenchApp

    imported = time.monotonic()

    async def run() -> None:
        app = WorkbenchApp()
        clock = FrameClock(app)
        async with app.run_test(size=SIZE):
            ready = time.monotonic()
            await wait_for(lambda: clock.first is not None, "the first frame", 30)
            assert clock.first is not None
            say(
                "RESULT", {"main": main, "imported": imported, "ready": ready, "frame": clock.first}
            )

    asyncio.run(run())


if __name__ == "__main__":
    if sys.argv[1] == "app":
        app_child()
    else:
        raise SystemExit(f"unknown role {sys.argv[1]}")
