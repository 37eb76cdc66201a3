"""Fan-out of engine events to every consumer.

How this works:
- ``stamp`` is synchronous: it gives an event its sequence number and times and queues it for
  every consumer, all without a checkpoint. A connection calls it right after the syscall the
  event reports (the ``send`` that the kernel took, the ``recv`` that returned), so no other
  task can run between a syscall and its stamp, and ``seq`` is the order the syscalls happened
  in: a reply can never be stamped before the send that carried its request. That is causal
  order by construction, not by luck of scheduling.
- Every consumer sees events in ``seq`` order. *Lossless* consumers (the recorder, tests) get a
  bounded memory channel; an event that does not fit waits in that consumer's backlog, behind
  the ones before it. ``flush`` delivers the backlogs in order and waits while a consumer is
  full. Every task that stamps awaits ``flush`` straight after (``emit`` does both), so each
  task has at most one event in flight: when a lossless consumer falls behind, the connection
  task waits, stops reading its socket, TCP's flow control slows the peer, and memory stays
  bounded by the number of tasks.
- *Batched* consumers (the UI) never hold the engine back: events are appended to a list that
  a flusher task hands over at most ~30 times a second (sooner when a batch fills up).
- Delivery is shielded from cancellation: an event that was stamped reaches every consumer,
  or none would know the socket was read. A consumer that goes away closes its channel and is
  dropped on the next delivery.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from itertools import count
from typing import TypedDict, TypeVar

import trio

from workbench.events import Address, Event, Side

E = TypeVar("E", bound=Event)


class Stamp(TypedDict):
    """What the hub fills in as an event happens: its place in the total order, and its times."""

    seq: int
    mono: float
    wall: float


class Origin(TypedDict):
    """Where an event happened: which connection (or listener), on which side, between what."""

    conn: int
    side: Side
    local: Address | None
    remote: Address | None


BatchSink = Callable[[list[Event]], None]

BATCH_INTERVAL = 1 / 30
"""Seconds between batches at most: a screen needs no more than this to look live."""


class EventBatcher:
    """Collects events for one consumer that must never block the engine."""

    def __init__(self, sink: BatchSink, *, interval: float = BATCH_INTERVAL, max_batch: int = 5000):
        self._sink = sink
        self._interval = interval
        self._max_batch = max_batch
        self._pending: list[Event] = []
        self._has_events = trio.Event()
        self._full = trio.Event()

    def add(self, event: Event) -> None:
        self._pending.append(event)
        self._has_events.set()
        if len(self._pending) >= self._max_batch:
            self._full.set()

    def flush(self) -> None:
        """Hand over whatever is pending now (also used on shutdown so nothing is left)."""
        if self._pending:
            batch, self._pending = self._pending, []
            self._sink(batch)
        self._has_events = trio.Event()
        self._full = trio.Event()

    async def run(self) -> None:
        """Deliver the first event at once, then at most one batch per interval."""
        try:
            while True:
                await self._has_events.wait()
                self.flush()
                with trio.move_on_after(self._interval):
                    await self._full.wait()
        finally:
            self.flush()


class _Subscriber:
    """One lossless consumer: its channel, and the stamped events still waiting to fit in it."""

    __slots__ = ("backlog", "channel", "sending")

    def __init__(self, channel: trio.MemorySendChannel[Event]) -> None:
        self.channel = channel
        self.backlog: deque[Event] = deque()
        self.sending = False  # ``flush`` is waiting to hand over backlog[0]: only it may move it


class Hub:
    """The single event stream every consumer subscribes to."""

    def __init__(self) -> None:
        self._seq = count(1)
        self._lock = trio.Lock()
        self._lossless: list[_Subscriber] = []
        self._batchers: list[EventBatcher] = []

    def subscribe(self, buffer: int = 1024) -> trio.MemoryReceiveChannel[Event]:
        """A lossless subscription; close the returned channel when done with it."""
        send, receive = trio.open_memory_channel[Event](buffer)
        self._lossless.append(_Subscriber(send))
        return receive

    def subscribe_batches(
        self, sink: BatchSink, *, interval: float = BATCH_INTERVAL, max_batch: int = 5000
    ) -> EventBatcher:
        """A batched subscription; the caller runs ``batcher.run()`` in its nursery."""
        batcher = EventBatcher(sink, interval=interval, max_batch=max_batch)
        self._batchers.append(batcher)
        return batcher

    def close(self) -> None:
        """End the stream: every lossless consumer's ``async for`` finishes after the last event.

        Events still in a backlog (only possible if a task stamped and never flushed) are
        delivered first where they fit; the engine always flushes, so this is a safety net.
        """
        for subscriber in self._lossless:
            self._offer(subscriber)
            subscriber.channel.close()
        self._lossless.clear()

    def stamp(self, build: Callable[[Stamp], E]) -> E:
        """Number, time and queue one event now, synchronously: no other task runs meanwhile.

        ``build`` makes the event from its stamp, with its real type and fields, e.g.
        ``hub.stamp(lambda at: Received(**at, conn=1, side=Side.PEER, data=data))``.
        The caller must ``await flush()`` before it stamps again (``emit`` does both); that
        wait is the backpressure a lagging lossless consumer applies.
        """
        event = build({"seq": next(self._seq), "mono": time.monotonic(), "wall": time.time()})
        for batcher in self._batchers:
            batcher.add(event)
        for subscriber in list(self._lossless):
            subscriber.backlog.append(event)
            self._offer(subscriber)
        return event

    async def flush(self) -> None:
        """Deliver every stamped event, in order; waits only while a lossless consumer is full.

        Always checkpoints (and is shielded), so a loop that stamps and flushes stays fair to
        other tasks.
        """
        with trio.CancelScope(shield=True):
            async with self._lock:
                for subscriber in list(self._lossless):
                    while subscriber.backlog:
                        subscriber.sending = True
                        try:
                            await subscriber.channel.send(subscriber.backlog[0])
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            self._drop(subscriber)
                            break
                        finally:
                            subscriber.sending = False
                        subscriber.backlog.popleft()

    async def emit(self, build: Callable[[Stamp], E]) -> E:
        """Stamp and deliver one event (for events that report no syscall of their own)."""
        event = self.stamp(build)
        await self.flush()
        return event

    def _offer(self, subscriber: _Subscriber) -> None:
        """Move what fits from the backlog into the channel without waiting."""
        backlog = subscriber.backlog
        while backlog and not subscriber.sending:
            try:
                subscriber.channel.send_nowait(backlog[0])
            except trio.WouldBlock:
                return
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._drop(subscriber)
                return
            backlog.popleft()

    def _drop(self, subscriber: _Subscriber) -> None:
        subscriber.backlog.clear()
        if subscriber in self._lossless:
            self._lossless.remove(subscriber)
