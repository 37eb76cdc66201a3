"""What every benchmark shares: worker processes, tables, percentiles and the machine line.

Measurements run in child processes (``python -m tests.benchmarks.MODULE ROLE ...``) so that
each variant starts with a fresh interpreter and never shares a GIL or a heap with another.
Children talk back with one line per fact on stdout (``PORT 1234``, ``RESULT {json}``); a
reader thread per pipe keeps the parent from blocking on a child that died or went quiet.
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import os
import platform
import queue
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
SOCAT = shutil.which("socat") or "/usr/bin/socat"
HOST = "127.0.0.1"
CONFIG_ENV = "WORKBENCH_BENCH_CONFIG_DIR"
"""Set for children so that every process of one run shares the one config folder."""


@functools.cache
def config_dir() -> str:
    """Apps under test get a throwaway config folder: a benchmark must never touch the user's."""
    if inherited := os.environ.get(CONFIG_ENV):
        return inherited
    folder = tempfile.mkdtemp(prefix="workbench-bench-config-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@dataclass(frozen=True)
class Figure:
    """One line of the summary: a measured value next to the target it is judged against."""

    benchmark: str
    figure: str
    value: float | None
    unit: str
    target: str = "-"
    met: bool | None = None


def below(benchmark: str, figure: str, value: float | None, unit: str, limit: float) -> Figure:
    """A figure that meets its target when it is under ``limit`` (a missing value never does)."""
    met = value is not None and not math.isnan(value) and value < limit
    return Figure(benchmark, figure, value, unit, f"< {limit:,g}", met)


def at_least(benchmark: str, figure: str, value: float | None, unit: str, limit: float) -> Figure:
    met = value is not None and not math.isnan(value) and value >= limit
    return Figure(benchmark, figure, value, unit, f">= {limit:,g}", met)


class Lines:
    """Collects a pipe's lines on a thread so that waiting for one can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self.closed = False
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, needle: str, timeout: float) -> str:
        """The first new line containing ``needle``; TimeoutError when the pipe stays quiet."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.closed = True
                raise EOFError(f"pipe closed before a line with {needle!r}")
            self.seen.append(line)
            if needle in line:
                return line
        raise TimeoutError(f"no line with {needle!r} within {timeout:.0f} s")

    def poll(self, needle: str) -> str | None:
        """Like ``expect`` but never waits: for loops that must keep doing their own work."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return None
            if line is None:
                self.closed = True
                return None
            self.seen.append(line)
            if needle in line:
                return line


class Child:
    """A child process whose stdout (and optionally stderr) lines can be awaited."""

    def __init__(self, argv: Sequence[str], *, stdin: bool = False) -> None:
        folder = config_dir()
        env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_CONFIG_DIR=folder)
        env[CONFIG_ENV] = folder
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.out = Lines(self.process.stdout)
        self.err = Lines(self.process.stderr)

    @classmethod
    def python(cls, module: str, *args: object, stdin: bool = False) -> Child:
        return cls(
            [sys.executable, "-m", f"tests.benchmarks.{module}", *map(str, args)], stdin=stdin
        )

    def port(self, timeout: float = 30) -> int:
        return int(self._tagged("PORT", timeout))

    def result(self, timeout: float) -> dict[str, Any]:
        return dict(json.loads(self._tagged("RESULT", timeout)))

    def _tagged(self, tag: str, timeout: float) -> str:
        try:
            return self.out.expect(f"{tag} ", timeout).split(" ", 1)[1]
        except (TimeoutError, EOFError) as exc:
            self.stop()
            stderr = "\n".join(self.err.seen[-15:] + drain(self.err))
            raise RuntimeError(f"{exc}; child said:\n{stderr}") from exc

    def tell(self, text: str) -> None:
        """One line on the child's stdin (the stop signal of the flood sender)."""
        if self.process.stdin is not None:
            self.process.stdin.write(text + "\n")
            self.process.stdin.flush()

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill this one child (by its own handle) if it is still running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def drain(lines: Lines) -> list[str]:
    out = []
    while (line := lines.poll("")) is not None:
        out.append(line)
    return out


def say(tag: str, payload: object) -> None:
    """A child's way to report: one tagged line, flushed at once."""
    text = payload if isinstance(payload, str | int) else json.dumps(payload)
    print(f"{tag} {text}", flush=True)


def free_port() -> int:
    """A port the kernel just handed out, for programs (socat) that cannot report theirs."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit where allowed; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    except (ValueError, OSError):
        return soft


def rss_bytes() -> int:
    """Resident set size now, from /proc (no psutil): growth is what a store really costs."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def listen_overflows() -> int:
    """The kernel's count of connections dropped because an accept queue was full.

    A client whose handshake is dropped retries its SYN after a second, so a delta here
    explains a one-second tail in connect times (system-wide: other programs count too).
    """
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True))["ListenOverflows"])
    return 0


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: with 50 samples p95 is the 48th, an actually observed value."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain aligned table: numbers right-aligned, text left-aligned."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(r[i], int | float) or r[i] is None for r in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    print(f"\n== {title}")
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def machine_line() -> str:
    model = "unknown CPU"
    for text in Path("/proc/cpuinfo").read_text().splitlines():
        if text.startswith("model name"):
            model = text.split(":", 1)[1].strip()
            break
    cores = len(os.sched_getaffinity(0))
    return (
        f"machine: nproc={cores} · {model} · Python {platform.python_version()}"
        f" · {platform.system()} {platform.release()} · load {os.getloadavg()[0]:.2f}"
    )


def mb_per_s(count: int, seconds: float) -> float:
    return count / seconds / 1e6 if seconds > 0 else math.nan
