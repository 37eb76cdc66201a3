"""Fan-out of engine events to every consumer.

How this works:
- ``emit`` stamps an event (sequence number, monotonic and wall time) and hands it to each
  consumer, all under one fair lock, so every consumer sees the same total order and the
  ``seq`` numbers are exactly that order.
- *Lossless* consumers (the recorder, tests) get a bounded memory channel. When one falls
  behind, ``emit`` waits; the connection task that called it stops reading its socket, TCP's
  flow control slows the peer, and memory stays bounded.
- *Batched* consumers (the UI) never hold the engine back: events are appended to a list that
  a flusher task hands over at most ~30 times a second (sooner when a batch fills up).
- The hand-off is shielded from cancellation: an event that was stamped reaches every consumer,
  or none would know the socket was read. A consumer that goes away closes its channel and is
  dropped on the next emit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import count
from typing import Any, TypeVar

import trio

from workbench.events import Event

E = TypeVar("E", bound=Event)

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


class Hub:
    """The single event stream every consumer subscribes to."""

    def __init__(self) -> None:
        self._seq = count(1)
        self._lock = trio.Lock()
        self._lossless: list[trio.MemorySendChannel[Event]] = []
        self._batchers: list[EventBatcher] = []

    def subscribe(self, buffer: int = 1024) -> trio.MemoryReceiveChannel[Event]:
        """A lossless subscription; close the returned channel when done with it."""
        send, receive = trio.open_memory_channel[Event](buffer)
        self._lossless.append(send)
        return receive

    def subscribe_batches(
        self, sink: BatchSink, *, interval: float = BATCH_INTERVAL, max_batch: int = 5000
    ) -> EventBatcher:
        """A batched subscription; the caller runs ``batcher.run()`` in its nursery."""
        batcher = EventBatcher(sink, interval=interval, max_batch=max_batch)
        self._batchers.append(batcher)
        return batcher

    def close(self) -> None:
        """End the stream: every lossless consumer's ``async for`` finishes after the last event."""
        for channel in self._lossless:
            channel.close()
        self._lossless.clear()

    async def emit(self, cls: type[E], **fields: Any) -> E:
        """Stamp and deliver one event; waits only while a lossless consumer is behind."""
        with trio.CancelScope(shield=True):
            async with self._lock:
                event = cls(seq=next(self._seq), mono=time.monotonic(), wall=time.time(), **fields)
                for batcher in self._batchers:
                    batcher.add(event)
                for channel in list(self._lossless):
                    try:
                        await channel.send(event)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        self._lossless.remove(channel)
        return event
