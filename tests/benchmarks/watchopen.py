"""Watching a big recording: time to first frame and memory of ``workbench --open``, by hand.

Not part of the benchmark run (it writes a 1 GiB file): run it alone on a quiet machine,

    python -m tests.benchmarks.watchopen [--folder /tmp] [--reopen 4] [--keep]

It writes two recordings (1 GiB in 16 payloads of 64 MiB; 245,000 small events), runs the real
``workbench --open FILE`` in a tmux terminal for each, and reports, from the moment the
process was spawned: the first frame (anything drawn), the first recorded event on screen, and
the process's RSS once the recording shows (VmRSS and VmHWM from /proc). Then it opens the
same file again with Ctrl+O ``--reopen`` times, Escape between, and reports RSS after each.
The files are deleted at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from workbench.events import Address, Received, Sent, Side
from workbench.recording.format import encode_event_parts, encode_header, new_header

BIG_PAYLOAD = 64 << 20
BIG_COUNT = 16
SMALL_EVENTS = 245_000
WIDTH, HEIGHT = 160, 48
SESSION = f"watchopen-{os.getpid()}"
START = 1000.0


def make_big(path: Path) -> Path:
    """1 GiB: 16 payloads of 64 MiB (8 sent, 8 received), 10 ms apart, on one connection."""
    block = os.urandom(1 << 20)
    payload = block * (BIG_PAYLOAD >> 20)
    local, remote = Address("127.0.0.1", 40000), Address("127.0.0.1", 5000)
    with path.open("wb") as file:
        file.write(encode_header(new_header(1.7e9, START)).encode() + b"\n")
        for i in range(BIG_COUNT):
            cls = Sent if i % 2 == 0 else Received
            event = cls(
                seq=i + 1, mono=START + i / 100, wall=1.7e9 + i / 100, conn=2,
                side=Side.CLIENT, local=local, remote=remote, data=payload,
            )  # fmt: skip
            file.writelines(encode_event_parts(event, START))
    return path


def make_small(path: Path, count: int = SMALL_EVENTS) -> Path:
    """``count`` small sends and receives over 1,000 connections, 1 ms apart (about 4 minutes
    at 1x), written by the format's own encoder."""
    with path.open("wb") as file:
        file.write(encode_header(new_header(1.7e9, START)).encode() + b"\n")
        pieces: list[bytes] = []
        for i in range(count):
            conn = 2 + i % 1000
            local, remote = Address("127.0.0.1", 40000 + conn), Address("127.0.0.1", 5000)
            cls = Sent if i % 2 == 0 else Received
            data = b"GET /item/%d HTTP/1.1\r\nHost: example\r\n\r\n" % i
            event = cls(
                seq=i + 1, mono=START + i / 1000, wall=1.7e9 + i / 1000, conn=conn,
                side=Side.CLIENT, local=local, remote=remote, data=data,
            )  # fmt: skip
            pieces.extend(encode_event_parts(event, START))
            if len(pieces) > 10_000:
                file.writelines(pieces)
                pieces.clear()
        file.writelines(pieces)
    return path


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=False, timeout=30
    ).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_for(condition: Callable[[], bool], within: float) -> float | None:
    """The monotonic time ``condition`` first held (polled every 5 ms), or None."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.005)
    return None


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def app_pid() -> int:
    """The workbench process: the only child of the pane's shell-less command."""
    pane = int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())
    return pane


def shows_events() -> bool:
    text = screen()
    return "→ send" in text or "← recv" in text


def measure(path: Path, reopen: int, config: Path) -> dict[str, object]:
    env = f"WORKBENCH_CONFIG_DIR={config}"
    command = f"env {env} {sys.executable} -m workbench --open {path} --recordings-dir {config}"
    start = time.monotonic()
    tmux("new-session", "-d", "-s", SESSION, "-x", str(WIDTH), "-y", str(HEIGHT), command)
    try:
        pid = app_pid()
        first = wait_for(lambda: bool(screen().strip()), 120)
        shown = wait_for(shows_events, 120)
        time.sleep(1.0)  # let the first batches land before reading memory
        result: dict[str, object] = {
            "first frame s": None if first is None else round(first - start, 2),
            "first event s": None if shown is None else round(shown - start, 2),
            "rss MB": [round(memory(pid)[0])],
        }
        for _ in range(reopen):
            tmux("send-keys", "-t", SESSION, "Escape")
            wait_for(lambda: not shows_events(), 10)
            tmux("send-keys", "-t", SESSION, "C-o")
            wait_for(lambda: "type a path" in screen(), 10)
            tmux("send-keys", "-t", SESSION, "-l", str(path))
            tmux("send-keys", "-t", SESSION, "Enter")
            wait_for(shows_events, 120)
            time.sleep(1.0)
            result["rss MB"].append(round(memory(pid)[0]))  # type: ignore[attr-defined]
        result["peak MB"] = round(memory(pid)[1])
        return result
    finally:
        tmux("kill-session", "-t", SESSION)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument("--reopen", type=int, default=4)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", choices=("big", "small"))
    args = parser.parse_args()
    folder = args.folder / f"watchopen-{os.getpid()}"
    folder.mkdir()
    config = folder / "config"
    config.mkdir()
    try:
        makers = {"big": make_big, "small": make_small}
        for name, make in makers.items():
            if args.only and name != args.only:
                continue
            path = folder / f"{name}.wbrec"
            if not path.exists():
                make(path)
            size = path.stat().st_size
            print(f"{name}: {size / 1e6:,.0f} MB", flush=True)
            print(f"  {measure(path, args.reopen, config)}", flush=True)
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
