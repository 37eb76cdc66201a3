"""Promise: SIGTERM and SIGHUP stop the workbench the way Ctrl+Q does.

Every socket is closed (the peer reads EOF), the recording is finished with the peer's close
and the listener's stop, the terminal is given back as it was, and the exit status is
128 + the signal's number (143 for SIGTERM, 129 for SIGHUP), so scripts and service managers
can tell. The subcommands ``mock`` and ``replay`` stop as cleanly. Each test runs the real
program on a real terminal (a pty, or tmux) with a real peer on loopback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.hostile.process_harness import (
    DEADLINE,
    ENTER_ALTERNATE,
    ROOT,
    PtyProcess,
    Tmux,
    assert_terminal_restored,
    child_env,
    connect,
    has_exited,
    listening_port,
    read_to_eof,
    wait_for,
    wait_for_event,
    workbench_argv,
)
from workbench.events import Accepted, Closed, Received, Stopped
from workbench.recording.reader import Recording, read_recording

ECHO = ROOT / "recordings" / "sample-echo.jsonl"


def assert_recording_finished(path: Path, peer_conn: int) -> Recording:
    """Read back whole, not cut short, ending with the peer's close and the listener's stop."""
    recording = read_recording(path)
    assert recording.warning is None, recording.warning
    closes = [e for e in recording.events if isinstance(e, Closed) and e.conn == peer_conn]
    assert len(closes) == 1, "the peer's close is missing from the recording"
    accepted = next(e for e in recording.events if isinstance(e, Accepted) and e.conn == peer_conn)
    stops = [e for e in recording.events if isinstance(e, Stopped) and e.conn == accepted.listener]
    assert len(stops) == 1, "the listener's stop is missing from the recording"
    return recording


def start_with_peer(recording: Path) -> tuple[socket.socket, int]:
    """Connect a peer, say hello, and wait until the recording holds what it said."""
    port = listening_port(recording)
    peer = connect(port)
    peer.sendall(b"hello\n")
    got = wait_for_event(
        recording, lambda e: isinstance(e, Received) and e.data == b"hello\n", "the peer's hello"
    )
    return peer, got.conn


@pytest.mark.parametrize(
    ("stop", "status"),
    [("ctrl+q", 0), (signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 128 + signal.SIGINT)],
    ids=["ctrl+q", "SIGTERM", "SIGINT"],
)
def test_a_stop_signal_quits_like_ctrl_q_closing_sockets_recording_and_terminal(
    tmp_path: Path, stop: str | int, status: int
) -> None:
    """SIGTERM (and SIGINT from outside) does what Ctrl+Q does; only the exit status differs."""
    recording = tmp_path / "session.wbrec"
    argv = workbench_argv("--listen", "127.0.0.1:0", "--record", str(recording))
    terminal = PtyProcess(argv, child_env(tmp_path))
    try:
        peer, peer_conn = start_with_peer(recording)
        with peer:
            if stop == "ctrl+q":
                terminal.type(b"\x11")
            else:
                assert isinstance(stop, int)
                terminal.signal(stop)
            assert read_to_eof(peer) == b""  # the peer sees the connection closed
        assert terminal.wait() == status
        assert_recording_finished(recording, peer_conn)
        assert_terminal_restored(terminal)
        assert b"Traceback" not in terminal.output
    finally:
        terminal.close()


def test_a_signal_during_start_up_still_ends_cleanly_with_128_plus_signal(tmp_path: Path) -> None:
    """Sent the moment the app takes the screen over, before it is ready: no crash (widgets
    torn down under their on_mount), the terminal given back, status 143."""
    argv = workbench_argv("--listen", "127.0.0.1:0")
    terminal = PtyProcess(argv, child_env(tmp_path))
    try:
        wait_for(lambda: ENTER_ALTERNATE in terminal.output, "the app to take the screen")
        terminal.signal(signal.SIGTERM)
        assert terminal.wait() == 128 + signal.SIGTERM
        assert_terminal_restored(terminal)
        assert b"Traceback" not in terminal.output and b"crashed" not in terminal.output
    finally:
        terminal.close()


def test_a_shutdown_that_hangs_still_ends_within_the_grace_with_the_terminal_restored(
    tmp_path: Path,
) -> None:
    """The watchdog: whatever hangs, a stop signal ends the process and gives the terminal back."""
    recording = tmp_path / "session.wbrec"
    argv = workbench_argv(
        "--listen", "127.0.0.1:0", "--record", str(recording), fault="hang-shutdown"
    )
    terminal = PtyProcess(argv, child_env(tmp_path))
    try:
        peer, _ = start_with_peer(recording)
        with peer:
            terminal.signal(signal.SIGTERM)
            assert terminal.wait() == 128 + signal.SIGTERM
            with contextlib.suppress(ConnectionResetError):
                assert read_to_eof(peer) == b""  # the sockets died with the process
        assert_terminal_restored(terminal)
    finally:
        terminal.close()


def test_sighup_repeated_during_shutdown_still_restores_the_terminal_in_tmux(
    tmp_path: Path,
) -> None:
    """A closing terminal may send SIGHUP more than once, with SIGTERM on top: one clean stop.

    The first signal decides: once the shutdown it started is under way (the peer has seen
    the close), a repeated SIGHUP and a SIGTERM change nothing. tmux plays the user's
    terminal: afterwards it is out of the alternate screen with mouse reporting off, and the
    shell reads exit status 129. (Signals that arrive together are handled in an order the
    kernel picks, so the later ones are sent once the first has been acted on.)
    """
    recording, status_file = tmp_path / "session.wbrec", tmp_path / "status"
    argv = " ".join(workbench_argv("--listen", "127.0.0.1:0", "--record", str(recording)))
    command = f"sh -c '{argv}; echo $? > {status_file}; exec sleep 600'"
    tmux = Tmux(command, child_env(tmp_path))
    try:
        peer, peer_conn = start_with_peer(recording)
        wait_for(lambda: tmux.display("#{alternate_on}") == "1", "the app's screen")
        pid = wait_for(tmux.child_pid, "the workbench process")
        with peer:
            os.kill(pid, signal.SIGHUP)
            assert read_to_eof(peer) == b""
        for signum in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(ProcessLookupError):  # already gone: nothing to hit
                os.kill(pid, signum)
        exit_status = wait_for(
            lambda: status_file.exists() and status_file.read_text().strip(), "the exit status"
        )
        assert exit_status == str(128 + signal.SIGHUP)
        assert_recording_finished(recording, peer_conn)
        flags = "#{alternate_on} #{mouse_any_flag} #{mouse_standard_flag} #{mouse_sgr_flag}"
        assert tmux.display(flags) == "0 0 0 0"
        assert "Traceback" not in tmux.screen()
    finally:
        tmux.kill()


def test_closing_the_terminal_window_finishes_the_recording_and_closes_the_peers(
    tmp_path: Path,
) -> None:
    """A real hangup: the terminal is gone (SIGHUP, and writes to it fail), yet the app ends
    cleanly instead of lingering with its sockets open."""
    recording = tmp_path / "session.wbrec"
    argv = " ".join(workbench_argv("--listen", "127.0.0.1:0", "--record", str(recording)))
    tmux = Tmux(f"sh -c '{argv}; exec sleep 600'", child_env(tmp_path))
    try:
        peer, peer_conn = start_with_peer(recording)
        wait_for(lambda: tmux.display("#{alternate_on}") == "1", "the app's screen")
        pid = wait_for(tmux.child_pid, "the workbench process")
        with peer:
            tmux.kill()  # like closing the terminal window
            assert read_to_eof(peer) == b""
        wait_for(lambda: has_exited(pid), "the workbench process to end")
        assert_recording_finished(recording, peer_conn)
    finally:
        tmux.kill()


def test_mock_stops_on_sigterm_with_its_summary_and_status_143(tmp_path: Path) -> None:
    command = workbench_argv("mock", str(ECHO), "--listen", "127.0.0.1:0")
    mock = subprocess.Popen(
        command, cwd=ROOT, env=child_env(tmp_path), stdout=subprocess.PIPE, text=True
    )
    try:
        assert mock.stdout is not None
        first = mock.stdout.readline()
        port = int(first.rsplit(":", 1)[1])
        with connect(port) as client:
            client.sendall(b"hello\n")
            wait_for(lambda: recv_some(client), "the mock's answer")
            mock.send_signal(signal.SIGTERM)
            read_to_eof(client)  # the mock closed the connection
        out, _ = mock.communicate(timeout=DEADLINE)
    finally:
        if mock.poll() is None:
            mock.kill()
            mock.wait()
    assert mock.returncode == 128 + signal.SIGTERM
    assert out.splitlines()[-1].startswith("mock server stopped: 1 client, 6 B in")


def recv_some(client: socket.socket) -> bytes | None:
    """What the mock answered so far (None if nothing yet)."""
    client.settimeout(0.05)
    try:
        return client.recv(65536) or None
    except TimeoutError:
        return None
    finally:
        client.settimeout(DEADLINE)


def test_replay_stops_on_sigterm_closing_its_connection_with_status_143(tmp_path: Path) -> None:
    """A server that never answers: replay waits for it, until SIGTERM ends it at once."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(DEADLINE)
        port = server.getsockname()[1]
        argv = ["replay", str(ECHO), "--target", f"127.0.0.1:{port}", "--timeout", "600"]
        replay = subprocess.Popen(
            workbench_argv(*argv),
            cwd=ROOT,
            env=child_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(DEADLINE)
                assert connection.recv(65536)  # the replayed request arrived; never answer
                replay.send_signal(signal.SIGTERM)
                assert read_to_eof(connection) == b""
            out, errors = replay.communicate(timeout=DEADLINE)
        finally:
            if replay.poll() is None:
                replay.kill()
                replay.wait()
    assert replay.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in errors


def test_running_the_app_in_process_leaves_signal_handling_as_it_found_it() -> None:
    """run_app ignores late stop signals only while it runs, so callers (tests) keep theirs."""
    from workbench.cli import launch as cli

    class QuietApp:
        return_code = 0
        crash_line = None

        async def run_async(self) -> None:
            pass

    before = {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS}
    assert cli.run_app(QuietApp()) == 0  # type: ignore[arg-type]
    assert {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS} == before
