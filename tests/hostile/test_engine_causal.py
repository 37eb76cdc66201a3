"""The log's order is causal: a reply is never logged before the request that caused it.

Thousands of request/response rounds against a real echo server (socat) and against our own
echo listener, checked in the hub's event stream and in a real recording read back from disk.
The check works on stream offsets, so it holds however TCP splits or merges chunks: when an
effect event (the echo's ``recv``) brings its stream to byte N, the cause (our ``send``) must
already have carried N bytes in events with a smaller ``seq`` (and earlier in the file).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio

from workbench.core import Engine
from workbench.core.hub import Hub
from workbench.events import Accepted, Event, PeerEof, Received, Sent, Side
from workbench.recording.reader import read_recording
from workbench.recording.recorder import Recorder
from workbench.recording.writer import RecordingWriter

pytestmark = pytest.mark.trio

ROUNDS = 2000
WAIT_SECONDS = 30
ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "recordings"

Stream = tuple[int, type[Sent] | type[Received]]


def violations(events: Sequence[Event], cause: Stream, effect: Stream) -> int:
    """Effect events that bring their stream past what the cause had carried before them."""
    caused = effected = bad = 0
    for event in events:
        if event.conn == cause[0] and isinstance(event, cause[1]):
            caused += event.size
        elif event.conn == effect[0] and isinstance(event, effect[1]):
            effected += event.size
            bad += effected > caused
    return bad


class Watcher:
    """A lossless consumer that keeps every event and wakes whoever waits for received bytes."""

    def __init__(self, channel: trio.MemoryReceiveChannel[Event]) -> None:
        self.events: list[Event] = []
        self.received: dict[int, int] = {}
        self.accepted: list[Accepted] = []
        self._channel = channel
        self._changed = trio.Event()

    async def run(self) -> None:
        async with self._channel:
            async for event in self._channel:
                self.events.append(event)
                if isinstance(event, Received):
                    self.received[event.conn] = self.received.get(event.conn, 0) + event.size
                elif isinstance(event, Accepted):
                    self.accepted.append(event)
                self._changed.set()
                self._changed = trio.Event()

    async def wait_received(self, conn: int, total: int) -> None:
        with trio.fail_after(WAIT_SECONDS):
            while self.received.get(conn, 0) < total:
                await self._changed.wait()


async def rounds(engine: Engine, watcher: Watcher, conn: int, count: int) -> None:
    """One request at a time, each waiting for its whole echo: the pattern that raced."""
    total = 0
    for number in range(count):
        request = b"request %06d\n" % number
        total += len(request)
        engine.send(conn, request)
        await watcher.wait_received(conn, total)


@asynccontextmanager
async def recorded_engine(path: Path) -> AsyncIterator[tuple[Engine, Watcher]]:
    """An engine with a hub watcher and a real recorder writing ``path``."""
    async with trio.open_nursery() as nursery:
        async with Engine() as engine:
            watcher = Watcher(engine.hub.subscribe(buffer=4096))
            nursery.start_soon(watcher.run)
            nursery.start_soon(Recorder(RecordingWriter.open(path)).run, engine.hub.subscribe())
            yield engine, watcher
            engine.shutdown()


@asynccontextmanager
async def socat_echo() -> AsyncIterator[int]:
    """A real echo server (socat PIPE) on a free loopback port; yields the port."""
    process = await trio.lowlevel.open_process(
        ["socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "PIPE"], stderr=subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        log = b""
        with trio.fail_after(WAIT_SECONDS):
            while not (found := re.search(rb"listening on AF=2 127\.0\.0\.1:(\d+)", log)):
                chunk = await process.stderr.receive_some()
                assert chunk, log
                log += chunk
        yield int(found[1])
    finally:
        process.kill()
        await process.wait()
        if process.stderr is not None:
            await process.stderr.aclose()


def assert_in_seq_order(events: Sequence[Event]) -> None:
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_replies_from_a_real_echo_server_are_never_logged_before_their_request(
    tmp_path: Path,
) -> None:
    """2,000 rounds against socat: zero replies before their request, live and recorded."""
    path = tmp_path / "socat.wbrec"
    async with socat_echo() as port:
        async with recorded_engine(path) as (engine, watcher):
            client = await engine.connect("127.0.0.1", port)
            await rounds(engine, watcher, client.id, ROUNDS)
    request_then_reply = ((client.id, Sent), (client.id, Received))
    assert_in_seq_order(watcher.events)
    assert violations(watcher.events, *request_then_reply) == 0
    recorded = read_recording(path).events
    assert_in_seq_order(recorded)
    assert sum(isinstance(e, Received) for e in recorded) >= ROUNDS
    assert violations(recorded, *request_then_reply) == 0


async def test_our_own_echo_server_logs_every_hop_in_causal_order(tmp_path: Path) -> None:
    """2,000 rounds through our echo listener: client send < peer recv < peer send (echo) <
    client recv, for every byte, in the hub's stream and in the recording."""
    path = tmp_path / "own.wbrec"
    async with recorded_engine(path) as (engine, watcher):
        listener = await engine.listen("127.0.0.1", 0, echo=True)
        client = await engine.connect("127.0.0.1", listener.local.port)
        await rounds(engine, watcher, client.id, ROUNDS)
        [peer] = [a.conn for a in watcher.accepted]
    hops = [
        ((client.id, Sent), (peer, Received)),
        ((peer, Received), (peer, Sent)),
        ((peer, Sent), (client.id, Received)),
    ]
    recorded = read_recording(path).events
    assert sum(isinstance(e, Received) and e.conn == client.id for e in recorded) >= ROUNDS
    for events in (watcher.events, recorded):
        assert_in_seq_order(events)
        assert [violations(events, cause, effect) for cause, effect in hops] == [0, 0, 0]


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
async def test_the_shipped_samples_are_in_causal_order(sample: Path) -> None:
    """The recordings we ship are what users read first: every reply follows its request."""
    recording = read_recording(sample)
    events = recording.events
    assert_in_seq_order(events)
    sends = [e for e in events if isinstance(e, Sent)]
    receives = [e for e in events if isinstance(e, Received)]
    assert sends and receives
    conns = {e.conn for e in sends + receives}
    for cause in conns:
        for effect in conns:
            if cause != effect:
                assert violations(events, (cause, Sent), (effect, Received)) == 0
    assert recording.header.version == (1, 0), "the samples stay format 1.0 (old files read)"


async def test_every_consumer_gets_every_event_once_in_seq_order_under_contention() -> None:
    """Stamping is synchronous and delivery waits: 20 tasks emitting at once into a lagging
    lossless consumer (buffer 2, irregular reads) and a batched one lose, duplicate and
    reorder nothing, and the lagging consumer holds the emitters back."""
    hub = Hub()
    lagging = hub.subscribe(buffer=2)
    batches: list[Event] = []
    batcher = hub.subscribe_batches(batches.extend)
    tasks, per_task = 20, 200
    got: list[Event] = []
    most_ahead = 0

    async def emitter(conn: int) -> None:
        for _ in range(per_task):
            await hub.emit(lambda at: PeerEof(**at, conn=conn, side=Side.PEER))

    async def consumer() -> None:
        nonlocal most_ahead
        while len(got) < tasks * per_task:
            got.append(await lagging.receive())
            if len(got) % 7 == 0:  # now and then, take all that is there without yielding
                while True:
                    try:
                        got.append(lagging.receive_nowait())
                    except trio.WouldBlock:
                        break
            most_ahead = max(most_ahead, hub_stamped() - len(got))

    def hub_stamped() -> int:
        batcher.flush()  # every stamp reaches the batcher at once: it counts them all
        return len(batches)

    with trio.fail_after(WAIT_SECONDS):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consumer)
            async with trio.open_nursery() as emitters:
                for conn in range(tasks):
                    emitters.start_soon(emitter, conn)
            batcher.flush()
    assert [e.seq for e in got] == list(range(1, tasks * per_task + 1))
    assert [e.seq for e in batches] == list(range(1, tasks * per_task + 1))
    assert most_ahead <= tasks + 2, "each emitter waits: at most one event each in flight"


async def test_a_stamp_while_delivery_waits_is_delivered_once_after_it() -> None:
    """The tricky interleaving, made deterministic: delivery of e2 waits on a full consumer,
    the consumer empties its buffer, and e3 is stamped before delivery resumes. The consumer
    must get e1, e2, e3: nothing twice, nothing lost, nothing reordered."""
    hub = Hub()
    channel = hub.subscribe(buffer=1)
    stamp = partial(hub.stamp, lambda at: PeerEof(**at, conn=1, side=Side.PEER))
    stamp()  # e1: fits in the buffer
    stamp()  # e2: waits in the backlog
    async with trio.open_nursery() as nursery:
        nursery.start_soon(hub.flush)  # blocks handing e2 over
        await trio.testing.wait_all_tasks_blocked()
        taken = [channel.receive_nowait(), channel.receive_nowait()]  # e1, then e2 moved up
        stamp()  # e3, while the flush that moved e2 has not resumed yet
    await hub.flush()
    while True:
        try:
            taken.append(channel.receive_nowait())
        except trio.WouldBlock:
            break
    assert [e.seq for e in taken] == [1, 2, 3]
