"""Hostile recording files, and running the real ``workbench`` on them with time and memory.

Shared by ``test_files_*.py``: each command runs as its own process, as a user runs it, and is
reaped with ``os.wait4`` so its own peak RSS is measured, not that of some other child.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "recordings" / "sample-echo.jsonl"

TIME_LIMIT = 10.0
"""Seconds a refusal may take: 'about a second' on a quiet machine, generous for a loaded CI."""

RSS_LIMIT_MB = 150.0
"""Peak memory of a refusal; the hostile files themselves are 600 MB or endless."""

NO_TRACEBACK = "Traceback"

COMMANDS: dict[str, list[str]] = {
    "show": ["show"],
    "replay": ["replay", "--target", "127.0.0.1:9", "--timeout", "2"],
    "mock": ["mock", "--listen", "127.0.0.1:0"],
    "--open": ["--open"],
}
"""Every command that reads a recording; ``--open`` is refused by the command line's own
check, before the UI starts. Replay's target is never contacted: the file is refused first."""

READ_BEFORE_STARTING = {name: args for name, args in COMMANDS.items() if name != "--open"}
"""The commands that read a whole recording before they start. ``--open`` checks on the command
line only what the header shows: the UI indexes the rest with its progress shown, and says
there what damage it meets (tests/hostile/test_watch_big_recordings.py)."""


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str
    seconds: float
    peak_rss_mb: float


_MEASURE = """
import json, os, subprocess, sys, threading
report, limit, *command = sys.argv[1:]
process = subprocess.Popen(command)
watchdog = threading.Timer(float(limit), process.kill)
watchdog.start()
_, status, usage = os.wait4(process.pid, 0)
watchdog.cancel()
process.returncode = os.waitstatus_to_exitcode(status)
with open(report, "w") as file:
    json.dump({"status": process.returncode, "rss_kib": usage.ru_maxrss}, file)
"""
"""Runs a command and reports its status and peak RSS. A go-between, because Linux counts the
peak RSS of the process that spawned a child into the child's own (pytest's would dominate)."""


def run_workbench(args: list[str], tmp: Path, *, limit: float = 60.0) -> Run:
    """``python -m workbench ARGS``, its outputs in files; killed if it outlives ``limit``."""
    out_path, err_path, report = tmp / "stdout.txt", tmp / "stderr.txt", tmp / "measured.json"
    command = [sys.executable, "-m", "workbench", *args]
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(
            [sys.executable, "-c", _MEASURE, str(report), str(limit), *command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=tmp,
            timeout=limit + 30,
            check=True,
        )
    seconds = time.monotonic() - start
    measured = json.loads(report.read_text())
    return Run(
        measured["status"],
        out_path.read_text("utf-8", "replace"),
        err_path.read_text("utf-8", "replace"),
        seconds,
        measured["rss_kib"] / 1024,  # KiB on Linux
    )


def sample_lines() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The echo sample's header and events, as JSON objects to spoil."""
    header, *events = SAMPLE.read_text().splitlines()
    return json.loads(header), [json.loads(line) for line in events]


def spoiled(
    path: Path,
    change: Callable[[int, dict[str, Any]], None],
    *,
    header: dict[str, Any] | None = None,
) -> Path:
    """The echo sample with ``change(index, event)`` applied to every event line."""
    original_header, events = sample_lines()
    for index, event in enumerate(events):
        change(index, event)
    lines = [header or original_header, *events]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def setting(field: str, value: object, at: int = 5) -> Callable[[int, dict[str, Any]], None]:
    """A change that sets one field of one event line (line ``at + 2`` of the file)."""

    def change(index: int, event: dict[str, Any]) -> None:
        if index == at:
            event[field] = value

    return change


def backwards(index: int, event: dict[str, Any]) -> None:
    """Every event recorded 0.01 s before the one above it: an edited or spliced file."""
    event["t"] = 100.0 - index / 100


def one_line_error(run: Run) -> str:
    """The single line a refusal prints on stderr (after any warnings); no traceback."""
    assert NO_TRACEBACK not in run.err, run.err
    lines = [line for line in run.err.splitlines() if ": warning: " not in line]
    assert len(lines) == 1, run.err
    return lines[0]
