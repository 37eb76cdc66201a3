"""Real workbench processes on a pseudo-terminal or in tmux, for the signal and crash promises.

Everything here waits by polling a condition against a deadline, never by sleeping a fixed time.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from workbench.events import Event, Listening
from workbench.recording.format import RecordingError
from workbench.recording.reader import Recording, read_recording

ROOT = Path(__file__).parents[2]
DEADLINE = 30.0
"""Seconds any one wait may take; generous, since the machine is shared."""

ENTER_ALTERNATE = b"\x1b[?1049h"
RESTORE = (
    b"\x1b[?1049l",  # leave the alternate screen
    b"\x1b[?1000l",  # mouse reporting off: clicks
    b"\x1b[?1003l",  # … any motion
    b"\x1b[?1006l",  # … SGR encoding
    b"\x1b[?2004l",  # bracketed paste off
    b"\x1b[?25h",  # cursor shown
)
"""What Textual writes when it quits through Ctrl+Q (measured on Textual 8.2.8)."""

CSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], what: str, within: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something other than None (or False)."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(0.02)


def child_env(tmp_path: Path) -> dict[str, str]:
    """Settings, messages and crash reports in the test's own folders; no Textual dev mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env.update(
        TERM="xterm-256color",
        WORKBENCH_CONFIG_DIR=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=str(ROOT),
    )
    return env


def recording_so_far(path: Path) -> Recording | None:
    """The recording as written so far (its last line may be cut short), or None yet."""
    try:
        return read_recording(path)
    except (RecordingError, OSError):
        return None


def wait_for_event(path: Path, match: Callable[[Event], bool], what: str) -> Event:
    def probe() -> Event | None:
        recording = recording_so_far(path)
        events = recording.events if recording else []
        return next((event for event in events if match(event)), None)

    return wait_for(probe, what)


def listening_port(recording: Path) -> int:
    event = wait_for_event(recording, lambda e: isinstance(e, Listening), "the listening event")
    assert event.local is not None
    return event.local.port


def connect(port: int) -> socket.socket:
    peer = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    peer.settimeout(DEADLINE)
    return peer


def read_to_eof(peer: socket.socket) -> bytes:
    """Everything the peer receives until the workbench closes the connection."""
    received = bytearray()
    while chunk := peer.recv(65536):
        received += chunk
    return bytes(received)


class PtyProcess:
    """A process whose stdin, stdout and stderr are a pseudo-terminal, as in a user's terminal.

    A thread drains the terminal's output (Textual blocks when nobody reads it) into ``output``.
    The parent keeps the terminal's slave side open, so its modes can be read after the exit.
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str], size: tuple[int, int] = (40, 120)):
        self.master, self.slave = os.openpty()
        rows, columns = size
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.modes_before = termios.tcgetattr(self.slave)
        self._output = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.process = subprocess.Popen(
            list(argv),
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._output += chunk

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        status = self.process.wait(timeout=DEADLINE)
        self._stop.set()  # after one last drain of what the child wrote before it exited
        self._reader.join(timeout=DEADLINE)
        self._drain_rest()
        return status

    def _drain_rest(self) -> None:
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._output += chunk

    def modes(self) -> list[Any]:
        return termios.tcgetattr(self.slave)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)
        self._stop.set()
        self._reader.join(timeout=DEADLINE)
        os.close(self.master)
        os.close(self.slave)


def assert_terminal_restored(terminal: PtyProcess) -> None:
    """After the last time the app took the screen over, it gave everything back."""
    output = terminal.output
    assert ENTER_ALTERNATE in output, "the app never drew its screen"
    after = output[output.rindex(ENTER_ALTERNATE) :]
    missing = [sequence for sequence in RESTORE if sequence not in after]
    assert not missing, f"the terminal was left with {missing} not undone"
    last_leave = after.rindex(b"\x1b[?1049l")
    for enabling in (ENTER_ALTERNATE, b"\x1b[?1000h", b"\x1b[?1003h", b"\x1b[?1006h"):
        assert enabling not in after[last_leave:], f"{enabling!r} written after leaving"
    before, now = terminal.modes_before, terminal.modes()
    lflag = 3
    for flag in (termios.ICANON, termios.ECHO, termios.ISIG):
        assert now[lflag] & flag == before[lflag] & flag, "terminal left in raw mode"


def text_after_restore(terminal: PtyProcess) -> list[str]:
    """The lines printed after the app left the alternate screen, escape sequences removed."""
    output = terminal.output
    tail = output[output.rindex(b"\x1b[?1049l") :]
    text = CSI.sub(b"", tail).decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


DOUBLES = Path(__file__).with_name("process_doubles.py")


def workbench_argv(*arguments: str, fault: str | None = None) -> list[str]:
    """``python -m workbench ARGUMENTS``, or with a fault from process_doubles.py injected."""
    entry = [str(DOUBLES), fault] if fault else ["-m", "workbench"]
    return [sys.executable, *entry, *arguments]


def has_exited(pid: int) -> bool:
    """Gone, or a zombie waiting for a parent that a hangup may have killed."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


class Tmux:
    """A private tmux server (its own -L socket) running one command in a 120x40 window."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed")
        self.name = f"workbench-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._env = env
        self._tmux("new-session", "-d", "-x", "120", "-y", "40", command)

    def _tmux(self, *arguments: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.name, "-f", "/dev/null", *arguments],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=True,
        )
        return done.stdout

    def display(self, form: str) -> str:
        return self._tmux("display-message", "-p", form).strip()

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def child_pid(self) -> int | None:
        """The pane's shell's child: the workbench process."""
        shell = int(self.display("#{pane_pid}"))
        try:
            children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def kill(self) -> None:
        """Ends the server: its terminals hang up, and their processes get SIGHUP."""
        subprocess.run(
            ["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=DEADLINE
        )
