"""Recordings, servers and a measured ``workbench replay`` process for the replay promises."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import trio

from workbench.events import (
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Event,
    Received,
    Sent,
    Side,
)
from workbench.recording.writer import RecordingWriter

ROOT = Path(__file__).parents[2]
START = 1000.0
SERVER = Address("127.0.0.1", 5000)

Step = tuple[str, bytes, float]
"""("send" | "recv", bytes, seconds after the conversation opened)."""

Handler = Callable[[trio.SocketStream], Awaitable[None]]

# Runs the real subcommand and reports its own peak RSS on stderr as the last line. VmHWM, not
# ru_maxrss: that one keeps the high-water mark of the forked test process from before exec.
MEASURED = """\
import re, sys
from workbench.cli import main
status = main(sys.argv[1:])
sys.stdout.flush()
with open("/proc/self/status") as status_file:
    peak = re.search(r"VmHWM:\\s*(\\d+) kB", status_file.read()).group(1)
print("peak-rss-kib", peak, file=sys.stderr)
sys.exit(status)
"""


def write_recording(path: Path, conversations: Sequence[tuple[float, Sequence[Step]]]) -> Path:
    """A recording of client conversations, each ``(start, steps)``, as the writer writes it."""
    events: list[Event] = []

    def add(cls: type[Event], conn: int, at: float, **fields: object) -> None:
        local = Address("127.0.0.1", 40000 + conn)
        events.append(
            cls(
                seq=len(events) + 1,
                mono=START + at,
                wall=1_700_000_000.0 + at,
                conn=conn,
                side=Side.CLIENT,
                local=local,
                remote=SERVER,
                **fields,
            )
        )

    for conn, (start, steps) in enumerate(conversations, start=1):
        add(Connecting, conn, start, timeout=10.0)
        add(Connected, conn, start)
        last = start
        for kind, data, at in steps:
            last = start + at
            add(Sent if kind == "send" else Received, conn, last, data=data)
        add(Closed, conn, last, by=Closer.LOCAL)
    events.sort(key=lambda e: e.mono)
    with RecordingWriter.open(path, started_wall=1_700_000_000.0, started_mono=START) as writer:
        for event in events:
            writer.write(event)
    return path


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float


async def replay_process(args: Sequence[str], *, within: float) -> Run:
    """``workbench replay ARGS`` in a process of its own, timed, with its peak RSS."""
    started = time.monotonic()
    with trio.fail_after(within):
        done = await trio.run_process(
            [sys.executable, "-c", MEASURED, "replay", *args],
            cwd=ROOT,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    seconds = time.monotonic() - started
    stderr = done.stderr.decode()
    match = re.search(r"peak-rss-kib (\d+)\s*$", stderr)
    assert match, f"no RSS line in: {stderr}"
    return Run(
        done.returncode,
        done.stdout.decode(),
        stderr[: match.start()],
        seconds,
        int(match.group(1)) / 1024,
    )


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield int(listeners[0].socket.getsockname()[1])
        nursery.cancel_scope.cancel()


async def read_exactly(stream: trio.SocketStream, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


async def until_closed(stream: trio.SocketStream) -> None:
    """Read and drop until the other end is gone (EOF or reset)."""
    try:
        while await stream.receive_some():
            pass
    except trio.BrokenResourceError:
        pass
