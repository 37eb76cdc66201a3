"""Promise: a recording survives the workbench being killed outright (kill -9).

The recorder hands what it has to the OS at least every 100 ms, so a kill loses at most what
arrived in the last moments, and what is on disk always reads back: every complete event
intact, a last event cut short dropped with a warning. Each test runs the real program on a
real terminal (a pty) with a real peer on loopback, and kills it with SIGKILL.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from tests.hostile.process_harness import (
    PtyProcess,
    child_env,
    connect,
    listening_port,
    wait_for,
    wait_for_event,
    workbench_argv,
)
from workbench.events import Received
from workbench.recording.reader import read_recording
from workbench.recording.recorder import TICK_SECONDS

QUIET_MARGIN = 10 * TICK_SECONDS
"""How long the test leaves the app alone before the kill: ten of the recorder's 50 ms ticks,
so a loaded machine cannot make the promise look broken when it is kept."""


def received_by(path: Path, conn: int) -> bytes:
    recording = read_recording(path)
    return b"".join(e.data for e in recording.events if isinstance(e, Received) and e.conn == conn)


def test_a_kill_9_keeps_what_arrived_before_the_last_100_ms(tmp_path: Path) -> None:
    """A message that arrived, then a quiet moment, then SIGKILL: the message is on disk."""
    recording = tmp_path / "session.wbrec"
    terminal = PtyProcess(
        workbench_argv("--listen", "127.0.0.1:0", "--record", str(recording)), child_env(tmp_path)
    )
    try:
        with connect(listening_port(recording)) as peer:
            peer.sendall(b"first\n")
            first = wait_for_event(
                recording, lambda e: isinstance(e, Received) and e.data == b"first\n", "first"
            )
            peer.sendall(b"last words before the kill\n")
            # The property under test is time itself: with nothing else happening, the
            # recorder's tick must put these bytes on disk within 100 ms.
            time.sleep(QUIET_MARGIN)
            terminal.signal(signal.SIGKILL)
            assert terminal.wait() == -signal.SIGKILL
        assert received_by(recording, first.conn) == b"first\nlast words before the kill\n"
    finally:
        terminal.close()


def test_a_kill_9_mid_flood_leaves_a_readable_recording_of_exactly_what_arrived(
    tmp_path: Path,
) -> None:
    """Killed while a peer floods it: the file reads back and holds a prefix of the stream."""
    recording = tmp_path / "session.wbrec"
    terminal = PtyProcess(
        workbench_argv("--listen", "127.0.0.1:0", "--record", str(recording)), child_env(tmp_path)
    )
    pattern = bytes(range(256)) * 256  # 64 KiB whose every byte says where it sits
    sent = 0
    stop = threading.Event()
    try:
        with connect(listening_port(recording)) as peer:

            def flood() -> None:
                nonlocal sent
                while not stop.is_set() and sent < 2**31:
                    try:
                        peer.sendall(pattern)
                    except OSError:
                        return  # the app died: the kernel resets the connection
                    sent += len(pattern)

            flooder = threading.Thread(target=flood, daemon=True)
            flooder.start()
            wait_for(lambda: recording.stat().st_size > 8 * 2**20, "8 MiB recorded")
            terminal.signal(signal.SIGKILL)
            assert terminal.wait() == -signal.SIGKILL
            stop.set()
            flooder.join(timeout=30)
        kept = read_recording(recording)  # must not raise: at most a cut-short last event
        conns = {e.conn for e in kept.events if isinstance(e, Received)}
        assert len(conns) == 1
        got = received_by(recording, conns.pop())
        assert len(got) > 8 * 2**20 - 2**20, "less was kept than the file held when killed"
        assert len(got) <= sent
        whole, rest = divmod(len(got), len(pattern))
        assert got == pattern * whole + pattern[:rest], "the bytes kept are not what was sent"
    finally:
        stop.set()
        terminal.close()
