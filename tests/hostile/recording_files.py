"""Hostile recording files, and running the real ``workbench`` on them with time and memory.

Shared by ``test_files_*.py``: each command runs as its own process, as a user runs it, and is
reaped with ``os.wait4`` so its own peak RSS is measured, not that of some other child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
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
    "show --hex": ["show", "--hex"],
    "replay": ["replay", "--target", "127.0.0.1:9", "--timeout", "2"],
    "mock": ["mock", "--listen", "127.0.0.1:0"],
    "--open": ["--open"],
}
"""Every command that reads a recording; ``--open`` is refused by the command line's own
check, before the UI starts. Replay's target is never contacted: the file is refused first."""


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str
    seconds: float
    peak_rss_mb: float


def run_workbench(args: list[str], tmp: Path, *, limit: float = 60.0) -> Run:
    """``python -m workbench ARGS``, its outputs in files; killed if it outlives ``limit``."""
    out_path, err_path = tmp / "stdout.txt", tmp / "stderr.txt"
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=tmp,
            env=env,
        )
    watchdog = threading.Timer(limit, process.kill)
    watchdog.start()
    try:
        _, wait_status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    seconds = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    return Run(
        process.returncode,
        out_path.read_text("utf-8", "replace"),
        err_path.read_text("utf-8", "replace"),
        seconds,
        usage.ru_maxrss / 1024,  # KiB on Linux
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


def one_line_error(run: Run) -> str:
    """The single line a refusal prints on stderr (after any warnings); no traceback."""
    assert NO_TRACEBACK not in run.err, run.err
    lines = [line for line in run.err.splitlines() if ": warning: " not in line]
    assert len(lines) == 1, run.err
    return lines[0]
