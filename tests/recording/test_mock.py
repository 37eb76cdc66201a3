"""The mock server answering real clients from the samples, in-process and as a command."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import trio

from workbench.core import Engine, NetworkError
from workbench.events import Address, Side
from workbench.recording.mock import MockSummary, ServedClient, serve_mock
from workbench.recording.reader import Recording, read_recording
from workbench.recording.scripts import server_scripts

pytestmark = pytest.mark.trio

ROOT = Path(__file__).parents[2]
ECHO = ROOT / "recordings" / "sample-echo.jsonl"
HTTP = ROOT / "recordings" / "sample-http.jsonl"
WAIT_SECONDS = 10


class Served:
    """Collects the mock's per-client notices and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.clients: list[ServedClient] = []
        self._changed = trio.Event()

    def __call__(self, client: ServedClient) -> None:
        self.clients.append(client)
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, count: int) -> None:
        with trio.fail_after(WAIT_SECONDS):
            while len(self.clients) < count:
                await self._changed.wait()


@asynccontextmanager
async def mock(recording: Recording) -> AsyncIterator[tuple[int, MockSummary, Served]]:
    summary, served = MockSummary(), Served()
    serve = partial(
        serve_mock, recording, Address("127.0.0.1", 0), summary=summary, on_event=served
    )
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve)
        yield port, summary, served
        nursery.cancel_scope.cancel()


def recorded(path: Path) -> tuple[bytes, bytes]:
    """What the recorded client sent, and what the recorded server answered."""
    [script] = server_scripts(read_recording(path).events)
    return script.expected, script.sent


async def converse(port: int, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes, as an HTTP/1.0 client does."""
    with trio.fail_after(WAIT_SECONDS):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(request)
            answer = b""
            while chunk := await stream.receive_some():
                answer += chunk
    return answer


async def receive_exactly(stream: trio.SocketStream, size: int) -> bytes:
    data = b""
    with trio.fail_after(WAIT_SECONDS):
        while len(data) < size:
            chunk = await stream.receive_some()
            assert chunk, f"EOF after {len(data)} of {size} bytes"
            data += chunk
    return data


async def test_each_client_gets_the_recorded_response() -> None:
    request, response = recorded(HTTP)

    async def client(answers: list[bytes]) -> None:
        answers.append(await converse(port, request))

    async with mock(read_recording(HTTP)) as (port, summary, served):
        one_after_another: list[bytes] = []
        for _ in range(2):
            await client(one_after_another)
        concurrently: list[bytes] = []
        async with trio.open_nursery() as nursery:
            for _ in range(2):
                nursery.start_soon(client, concurrently)
        await served.wait_for(4)
    assert one_after_another == concurrently == [response, response]
    assert summary.clients == 4 and summary.mismatches == []
    assert (summary.bytes_in, summary.bytes_out) == (4 * len(request), 4 * len(response))
    for each in served.clients:
        assert (each.bytes_in, each.bytes_out, each.mismatches) == (len(request), len(response), ())


async def test_answers_wait_for_the_recorded_byte_count_and_note_differences() -> None:
    async def client(number: int) -> None:
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            lines = [b"hellO\r\n" if number else b"hello\r\n", b"how are you?\r\n"]
            for line, answer in zip(lines, [b"hello\r\n", b"how are you?\r\n"], strict=True):
                for byte in range(len(line)):  # a byte at a time: the mock must wait for all
                    await stream.send_all(line[byte : byte + 1])
                assert await receive_exactly(stream, len(answer)) == answer
            await stream.send_all(b"\x00\x01\xfe\xff")
            assert await receive_exactly(stream, 4) == b"\x00\x01\xfe\xff"
            await stream.send_eof()
            assert await stream.receive_some() == b"", "the mock finishes after the client"

    async with mock(read_recording(ECHO)) as (port, summary, served):
        async with trio.open_nursery() as nursery:
            for number in range(2):
                nursery.start_soon(client, number)
        await served.wait_for(2)
    [mismatch] = summary.mismatches
    assert mismatch.endswith("byte 4 differs: expected o\\r\\n but got O\\r\\n")
    assert sorted(len(each.mismatches) for each in served.clients) == [0, 1]


async def test_a_recording_of_only_the_client_side_is_served_mirrored() -> None:
    recording = read_recording(HTTP)
    client_side = replace(recording, events=[e for e in recording.events if e.side is Side.CLIENT])
    request, response = recorded(HTTP)
    async with mock(client_side) as (port, _, served):
        assert await converse(port, request) == response
        await served.wait_for(1)


async def test_a_port_in_use_is_a_network_error() -> None:
    async with Engine() as engine:
        taken = await engine.listen("127.0.0.1", 0)
        async with trio.open_nursery() as nursery:
            with pytest.raises(NetworkError) as caught:
                await nursery.start(serve_mock, read_recording(HTTP), taken.local)
    assert "already in use" in caught.value.explanation.message


async def test_the_mock_command_prints_its_port_and_a_summary_on_ctrl_c() -> None:
    request, response = recorded(HTTP)
    argv = [sys.executable, "-m", "workbench", "mock", str(HTTP)]
    process = await trio.lowlevel.open_process(
        [*argv, "--listen", "127.0.0.1:0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        lines = LineReader(process.stdout)
        first = await lines.next()
        prefix = f"mock server for {HTTP} listening on 127.0.0.1:"
        assert first.startswith(prefix), first
        assert await converse(int(first.removeprefix(prefix)), request) == response
        assert (await lines.next()).startswith("served 127.0.0.1:")
        process.send_signal(signal.SIGINT)
        with trio.fail_after(WAIT_SECONDS):
            assert await process.wait() == 0
        rest = await lines.rest()
        errors = await process.stderr.receive_some()
    finally:
        if process.returncode is None:
            process.kill()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                await pipe.aclose()
        await process.wait()
    assert rest == [
        f"mock server stopped: 1 client, {len(request)} B in, {len(response)} B out, 0 mismatches"
    ]
    assert errors == b""


class LineReader:
    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def next(self) -> str:
        with trio.fail_after(WAIT_SECONDS):
            while b"\n" not in self._buffer:
                chunk = await self._stream.receive_some()
                assert chunk, f"the output ended before a full line: {self._buffer!r}"
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    async def rest(self) -> list[str]:
        with trio.fail_after(WAIT_SECONDS):
            while chunk := await self._stream.receive_some():
                self._buffer += chunk
        return self._buffer.decode().splitlines()
