"""Promise: a recording the reader accepts never crashes what consumes it (issue 10, A4).

Times and numbers are checked by the reader: a non-finite or absurd time, a wall clock no
platform can show, an id out of range or JSON ``true`` for a number is damage at its line, said
in one line (exit 2) by every command. Time that runs backwards is moved forward to the event
before it, with a warning, and the file still shows, replays, mocks and plays in the UI.
"""

from __future__ import annotations

import math
import signal
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.recording_files import (
    READ_BEFORE_STARTING,
    SAMPLE,
    backwards,
    one_line_error,
    run_workbench,
    sample_lines,
    setting,
    spoiled,
)
from workbench.recording.format import RecordingError
from workbench.recording.playback import Playback
from workbench.recording.reader import read_recording
from workbench.recording.scripts import client_scripts
from workbench.recording.transcript import transcript_lines

BAD_VALUES: list[tuple[str, object, str]] = [
    ("t", math.nan, "field 't' should be a finite number of seconds"),
    ("t", "nan", "field 't' should be a finite number of seconds"),
    ("t", "inf", "field 't' should be a finite number of seconds"),
    ("t", "-inf", "field 't' should be a finite number of seconds"),
    ("t", 1e300, "field 't' should be a finite number of seconds"),
    ("t", -1e300, "field 't' should be a finite number of seconds"),
    ("t", 10**400, "field 't' should be a number"),
    ("wall", math.nan, "field 'wall' should be seconds since 1970"),
    ("wall", 1e300, "field 'wall' should be seconds since 1970"),
    ("wall", -1.0, "field 'wall' should be seconds since 1970"),
    ("conn", True, "field 'conn' should be an integer"),
    ("conn", -1, "field 'conn' should be an integer from 0 to"),
    ("seq", 2**64, "field 'seq' should be an integer from 0 to"),
    ("seq", 1.0, "field 'seq' should be an integer"),
    ("local", "127.0.0.1:65536", "field 'local' should be \"host:port\""),
    ("remote", "\ud800:80", "field 'remote' should be \"host:port\""),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), BAD_VALUES, ids=[f"{f}={v!r}" for f, v, _ in BAD_VALUES]
)
def test_a_number_no_consumer_can_use_is_damage_at_its_line(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    path = spoiled(tmp_path / "bad.jsonl", setting(field, value))
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert str(caught.value).startswith(f"{path} line 7: {message}")


@pytest.mark.parametrize(
    ("field", "value"),
    [("started_mono", "nan"), ("started_mono", 1e300), ("started_wall", math.inf)],
)
def test_a_header_time_no_consumer_can_use_is_damage_at_line_1(
    tmp_path: Path, field: str, value: object
) -> None:
    header, _ = sample_lines()
    header[field] = value
    path = spoiled(tmp_path / "bad.jsonl", lambda i, e: None, header=header)
    with pytest.raises(RecordingError, match=f"line 1: field '{field}' should be"):
        read_recording(path)


@pytest.mark.parametrize("command", READ_BEFORE_STARTING)
def test_every_command_refuses_a_nan_time_in_one_line(tmp_path: Path, command: str) -> None:
    path = spoiled(tmp_path / "nan.jsonl", setting("t", math.nan))
    run = run_workbench([*READ_BEFORE_STARTING[command], str(path)], tmp_path)
    assert run.status == 2, run
    assert "line 7: field 't' should be a finite number of seconds" in one_line_error(run)


def test_time_never_runs_backwards_and_the_reader_says_so(tmp_path: Path) -> None:
    recording = read_recording(spoiled(tmp_path / "back.jsonl", backwards))
    monos = [event.mono for event in recording.events]
    assert monos == sorted(monos) and len(set(monos)) == 1  # all moved up to the first
    assert recording.warning == (
        "time runs backwards at line 3 (20 events in all)"
        " — each is shown at the time of the event before it"
    )


def test_show_prints_a_backwards_recording_with_a_warning(tmp_path: Path) -> None:
    path = spoiled(tmp_path / "back.jsonl", backwards)
    run = run_workbench(["show", str(path)], tmp_path)
    assert (run.status, run.out.count("\n")) == (0, 22), run
    assert run.err == f"workbench show: warning: {path}: {read_recording(path).warning}\n"


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_server() -> Iterator[int]:
    """A real echo server on loopback, in a thread: what the sample was recorded against."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


def test_replay_plays_a_backwards_recording_to_a_match(tmp_path: Path, echo_server: int) -> None:
    path = spoiled(tmp_path / "back.jsonl", backwards)
    run = run_workbench(
        ["replay", str(path), "--target", f"127.0.0.1:{echo_server}", "--speed", "max"], tmp_path
    )
    assert run.status == 0, run
    assert "1 connection: 1 match" in run.out
    assert "time runs backwards at line 3" in run.err and "Traceback" not in run.err


def test_mock_serves_a_backwards_recording(tmp_path: Path) -> None:
    path = spoiled(tmp_path / "back.jsonl", backwards)
    request = client_scripts(read_recording(SAMPLE).events)[0].sent
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "mock", str(path), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert " listening on 127.0.0.1:" in first, first
        port = int(first.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(request)
            client.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer == request  # the recorded echo server's answer
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "mock server stopped: 1 client" in out
    assert "time runs backwards" in err and "Traceback" not in err


times = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from(["nan", "inf", "-inf", 1e9, -1e9, 1e9 + 1, 0, -0.0])
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(times, min_size=21, max_size=21), times)
def test_any_times_are_refused_or_safe_for_every_consumer(
    tmp_path: Path, event_times: list[object], started_mono: object
) -> None:
    """Whatever ``t`` and ``started_mono`` hold: a RecordingError, or times every consumer
    can use (finite, never running backwards), shown and played without an exception."""
    header, _ = sample_lines()
    header["started_mono"] = started_mono

    def timed(index: int, event: dict[str, Any]) -> None:
        event["t"] = event_times[index]

    path = spoiled(tmp_path / "fuzz.jsonl", timed, header=header)
    try:
        recording = read_recording(path)
    except RecordingError:
        return
    monos = [event.mono for event in recording.events]
    assert all(math.isfinite(mono) for mono in monos) and monos == sorted(monos)
    assert list(transcript_lines(recording.header, recording.events, hex=True))
    playback = Playback(recording.events, speed=0.25)
    now = 0.0
    for _ in range(len(recording.events)):  # waiting delay() out makes one event at least due
        delay = playback.delay(now)
        if delay is None:
            break
        assert math.isfinite(delay) and delay >= 0
        now += delay
        assert playback.take(now, len(recording.events))
    assert playback.done
    for script in client_scripts(recording.events):
        assert math.isfinite(script.start) and script.start >= 0
