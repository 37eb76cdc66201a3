"""Replaying the samples against real servers: trio ones, socat or ncat, and wrong ones."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import trio

from workbench.cli.replay import main as main_replay
from workbench.events import Address, Side
from workbench.recording.compare import PLACEHOLDER, Comparison, diff_streams
from workbench.recording.reader import read_recording
from workbench.recording.replay import Verdict, replay
from workbench.recording.scripts import (
    Expect,
    Finish,
    PeerFinish,
    Send,
    client_scripts,
    server_scripts,
)

ROOT = Path(__file__).parents[2]
ECHO = ROOT / "recordings" / "sample-echo.jsonl"
HTTP = ROOT / "recordings" / "sample-http.jsonl"
ECHOED = b"hello\r\nhow are you?\r\n\x00\x01\xfe\xff"
DATE = re.compile(rb"Date: [^\r\n]*")

Handler = Callable[[trio.SocketStream], Awaitable[None]]


# -- scripts and diffs (no sockets) ---------------------------------------------------------


def test_client_script_of_the_echo_sample() -> None:
    [script] = client_scripts(read_recording(ECHO).events)
    kinds = [type(step) for step in script.steps]
    assert kinds == [Send, Expect, Send, Expect, Send, Expect, Finish]
    assert script.sent == script.expected == ECHOED
    assert script.start == 0
    sends = [step for step in script.steps if isinstance(step, Send)]
    assert all(0.1 < step.delay < 1 for step in sends), "the recorded think time is kept"


def test_server_script_waits_for_the_clients_fin_before_its_own() -> None:
    [script] = server_scripts(read_recording(ECHO).events)
    kinds = [type(step) for step in script.steps]
    assert kinds == [Expect, Send, Expect, Send, Expect, Send, PeerFinish, Finish]


def test_only_one_side_recorded_is_played_mirrored() -> None:
    events = read_recording(HTTP).events
    [direct] = client_scripts(events)
    [mirrored] = client_scripts([e for e in events if e.side is not Side.CLIENT])
    assert mirrored.sent == direct.sent and mirrored.expected == direct.expected
    assert [type(s) for s in mirrored.steps] == [Send, Expect, PeerFinish, Finish]
    assert [type(s) for s in direct.steps] == [type(s) for s in mirrored.steps]
    assert mirrored.remote == direct.remote, "the client's view: the server is remote"
    [server] = server_scripts([e for e in events if e.side is not Side.PEER])
    assert server.sent == direct.expected and server.expected == direct.sent


def test_text_differences_are_a_line_diff_with_escapes() -> None:
    diff = diff_streams(b"a\r\nb\x1b[31m\r\nc\r\n", b"a\r\nB\r\nc\r\n")
    assert diff is not None
    assert "-b\\x1b[31m\\r\\n" in diff.splitlines() and "+B\\r\\n" in diff.splitlines()
    assert "\x1b" not in diff


def test_binary_differences_are_a_hex_diff() -> None:
    diff = diff_streams(b"\x00\xff\x01", b"\x00\xfe\x01")
    assert diff is not None
    assert "-00000000  00 ff 01" in diff and "+00000000  00 fe 01" in diff


def test_ignored_parts_are_masked_on_both_sides() -> None:
    first = b"HTTP/1.0 200 OK\r\nDate: Mon, 01 Jan 2024\r\n\r\n"
    second = b"HTTP/1.0 200 OK\r\nDate: Tue, 02 Jan 2024 10:00\r\n\r\n"
    assert diff_streams(first, first) is None
    assert diff_streams(first, second, DATE) is None
    diff = diff_streams(first + b"x", second, DATE)
    assert diff is not None and PLACEHOLDER.decode() in diff


def test_a_diff_of_big_streams_is_a_window_at_the_first_difference() -> None:
    expected = b"".join(b"row %07d\n" % n for n in range(1_000_000))
    at = expected.index(b"row 0700000")
    received = expected[:at] + b"ROW" + expected[at + 3 :]
    diff = diff_streams(expected, received)
    assert diff is not None and diff.splitlines()[0] == f"first difference at byte {at}"
    assert "-row 0700000\\n" in diff.splitlines() and "+ROW 0700000\\n" in diff.splitlines()
    assert len(diff.splitlines()) < 20, "context lines and the changed one, not the streams"


def test_a_binary_window_is_labelled_with_its_offsets_in_the_stream() -> None:
    expected = bytes(range(256)) * 4096
    received = expected[:100_000] + b"\xff" + expected[100_001:]
    diff = diff_streams(expected, received)
    assert diff is not None and "first difference at byte 100000" in diff
    assert any(line.startswith(f"+{100_000 // 16 * 16:08x}  ") for line in diff.splitlines())
    assert len(diff.splitlines()) < 50


def test_an_answer_compared_on_arrival_keeps_only_a_window() -> None:
    expected = b"x" * 1_000_000
    comparison = Comparison(expected, None)
    for _ in range(40):
        comparison.add(b"x" * 30_000 + b"y" * 35_536)
    assert comparison.overrun and comparison.size == 40 * 65_536
    assert len(comparison._kept) <= 4096, "what follows the first difference is only counted"
    diff = comparison.diff()
    assert diff is not None and diff.startswith("first difference at byte 30000")


# -- servers the tests run -----------------------------------------------------------------


async def echo(stream: trio.SocketStream) -> None:
    await _answer_each_chunk(stream, lambda chunk: chunk)


async def upper(stream: trio.SocketStream) -> None:
    await _answer_each_chunk(stream, bytes.upper)


async def _answer_each_chunk(stream: trio.SocketStream, answer: Callable[[bytes], bytes]) -> None:
    async with stream:
        try:
            async for chunk in stream:
                await stream.send_all(answer(chunk))
        except trio.BrokenResourceError:
            pass


def http_server(date: bytes) -> Handler:
    """Answers the recorded response, with another Date header, once the request is in."""
    [script] = client_scripts(read_recording(HTTP).events)
    response = DATE.sub(b"Date: " + date, script.expected)

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = await stream.receive_some()
                if not chunk:
                    return
                request += chunk
            await stream.send_all(response)

    return handle


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield int(listeners[0].socket.getsockname()[1])
        nursery.cancel_scope.cancel()


async def run_replay(argv: list[str]) -> int:
    """main_replay runs its own trio loop, so it gets a thread of its own."""
    return await trio.to_thread.run_sync(main_replay, argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- replaying -------------------------------------------------------------------------------


@pytest.mark.trio
async def test_replay_against_an_echo_server_matches() -> None:
    async with serving(echo) as port:
        report = await replay(read_recording(ECHO), Address("127.0.0.1", port))
    [result] = report.results
    assert result.verdict is Verdict.MATCH
    assert result.received == result.sent == len(ECHOED), "counted, not kept: may be endless"
    assert result.diff == "" and result.message == ""


@pytest.mark.trio
async def test_replay_keeps_the_recorded_pauses_scaled_by_speed() -> None:
    recording = read_recording(ECHO)
    pauses = sum(s.delay for s in client_scripts(recording.events)[0].steps if isinstance(s, Send))
    async with serving(echo) as port:
        started = trio.current_time()
        report = await replay(recording, Address("127.0.0.1", port), speed=4.0)
        elapsed = trio.current_time() - started
    assert report.count(Verdict.MATCH) == 1
    assert elapsed >= pauses / 4


@pytest.mark.trio
async def test_cli_replay_exits_0_when_everything_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with serving(echo) as port:
        status = await run_replay([str(ECHO), "--target", f"127.0.0.1:{port}", "--speed", "max"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "#2 (127.0.0.1:" in out and ": match (sent 25 B" in out
    assert "1 connection: 1 match, 0 differs, 0 incomplete, 0 error" in out


@pytest.mark.trio
async def test_a_server_answering_differently_exits_1_with_a_diff(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with serving(upper) as port:
        status = await run_replay([str(ECHO), "--target", f"127.0.0.1:{port}", "--speed", "max"])
    out = capsys.readouterr().out
    assert status == 1
    assert ": differs (" in out and "--- expected" in out and "+++ received" in out
    assert "-00000000  68 65 6c 6c 6f 0d 0a" in out, "expected: hello\\r\\n"
    assert "+00000000  48 45 4c 4c 4f 0d 0a" in out, "received: HELLO\\r\\n"


@pytest.mark.trio
async def test_ignore_masks_a_changing_date_header(capsys: pytest.CaptureFixture[str]) -> None:
    async with serving(http_server(b"Thu, 01 Jan 2037 00:00:00 GMT")) as port:
        argv = [str(HTTP), "--target", f"127.0.0.1:{port}", "--speed", "max"]
        differs = await run_replay(argv)
        out = capsys.readouterr().out
        masked = await run_replay([*argv, "--ignore", r"Date: [^\r\n]*"])
    assert differs == 1
    assert "+Date: Thu, 01 Jan 2037 00:00:00 GMT\\r\\n" in out.splitlines()
    assert any(line.startswith("-Date: ") for line in out.splitlines())
    assert masked == 0, capsys.readouterr().out


@pytest.mark.trio
async def test_a_refused_target_exits_2_with_the_hint(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    status = await run_replay([str(ECHO), "--target", f"127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert status == 2
    [line] = err.splitlines()
    assert line.startswith(f"workbench replay: connection refused by 127.0.0.1:{port}; hint: ")
    assert f"nothing is listening on 127.0.0.1:{port}" in line


def test_a_garbage_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\x01 not a recording\n")
    assert main_replay([str(garbage), "--target", "127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"workbench replay: {garbage} line 1: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--target", "localhost", "has no port"),
        ("--speed", "0.1", "out of range"),
        ("--speed", "fast", "not a number"),
        ("--ignore", "(", "not a regular expression"),
        ("--timeout", "-1", "not a usable timeout"),
    ],
)
def test_bad_options_are_one_line(
    option: str, value: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(ECHO), "--target", "127.0.0.1:9", option, value]
    assert main_replay(argv) == 2
    err = capsys.readouterr().err
    assert complaint in err and err.count("\n") == 1


# -- against real programs -------------------------------------------------------------------


@contextmanager
def external_echo_server() -> Iterator[int]:
    """socat (or ncat) echoing with cat, once it accepts connections."""
    port = free_port()
    if shutil.which("socat"):
        argv = ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]
    elif shutil.which("ncat"):
        argv = ["ncat", "--keep-open", "--exec", "/bin/cat", "-l", "127.0.0.1", str(port)]
    else:
        pytest.skip("neither socat nor ncat is installed, so there is no real echo server")
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        try:
            _wait_until_accepting(port, process)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except ConnectionRefusedError:
            if process.poll() is not None:
                assert process.stderr is not None
                pytest.fail(f"the echo server exited: {process.stderr.read().decode()}")
            time.sleep(0.025)  # polling a program we do not control: there is no event to wait on
    pytest.fail(f"the echo server never accepted on port {port}")


def test_replay_against_socat_matches(capsys: pytest.CaptureFixture[str]) -> None:
    with external_echo_server() as port:
        status = main_replay([str(ECHO), "--target", f"127.0.0.1:{port}", "--speed", "max"])
    assert status == 0, capsys.readouterr().out


@pytest.mark.trio
async def test_python_m_workbench_replay() -> None:
    async with serving(echo) as port:
        argv = [str(ECHO), "--target", f"127.0.0.1:{port}", "--speed", "100"]
        done = await trio.run_process(
            [sys.executable, "-m", "workbench", "replay", *argv],
            cwd=ROOT,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert b": match (" in done.stdout and done.stderr == b""


@pytest.mark.trio
async def test_a_server_going_quiet_mid_conversation_is_noted_and_not_waited_for() -> None:
    """The note names the missing answer bytes (not our sends, which are not due yet)."""

    async def first_answer_short(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some()
            await stream.send_all(b"hel")
            async for _ in stream:
                pass

    async with serving(first_answer_short) as port:
        with trio.fail_after(5):
            report = await replay(
                read_recording(ECHO), Address("127.0.0.1", port), idle=0.3, settle=0.1
            )
    [result] = report.results
    assert result.verdict is Verdict.DIFFERS
    assert result.message.startswith("the server sent nothing more for 0.3 s with 3 of the")
    assert "first difference at byte 3" in result.diff


def test_replay_skips_failed_connection_attempts() -> None:
    events = read_recording(ECHO).events
    failed_attempt = [replace(e, conn=99) for e in events if e.kind == "connecting"]
    assert [s.conn for s in client_scripts([*events, *failed_attempt])] == [2]
