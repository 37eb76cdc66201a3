"""The UI's batcher never blocks the engine and hands events over at screen rate, in order."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from workbench.core.hub import EventBatcher
from workbench.events import Event
from workbench.testing import Story

INTERVAL = 1 / 30


class Sink:
    """Collects handed-over batches with the (virtual) time each arrived."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, list[Event]]] = []

    def __call__(self, batch: list[Event]) -> None:
        self.batches.append((trio.current_time(), batch))


@pytest.mark.trio
async def test_the_first_event_goes_at_once_and_later_ones_wait_for_the_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    story, sink = Story(), Sink()
    batcher = EventBatcher(sink, interval=INTERVAL)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(batcher.run)
        start = trio.current_time()
        batcher.add(story.received(1, b"a"))
        await trio.testing.wait_all_tasks_blocked()
        assert [(t - start, [e.seq for e in b]) for t, b in sink.batches] == [(0.0, [1])]
        batcher.add(story.received(1, b"b"))
        batcher.add(story.received(1, b"c"))
        await trio.sleep(INTERVAL * 2)
        assert [(t - start, [e.seq for e in b]) for t, b in sink.batches] == [
            (0.0, [1]),
            (pytest.approx(INTERVAL), [2, 3]),
        ]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_a_full_batch_goes_before_the_interval_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    story, sink = Story(), Sink()
    batcher = EventBatcher(sink, interval=INTERVAL, max_batch=3)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(batcher.run)
        batcher.add(story.received(1, b"a"))
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()
        for data in (b"b", b"c", b"d"):
            batcher.add(story.received(1, data))
        await trio.testing.wait_all_tasks_blocked()
        assert sink.batches[-1][0] == start and [e.seq for e in sink.batches[-1][1]] == [2, 3, 4]
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_what_is_pending_when_the_batcher_stops_is_still_handed_over() -> None:
    story, sink = Story(), Sink()
    batcher = EventBatcher(sink, interval=INTERVAL)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(batcher.run)
        batcher.add(story.received(1, b"a"))
        await trio.testing.wait_all_tasks_blocked()
        batcher.add(story.received(1, b"b"))
        nursery.cancel_scope.cancel()
    assert [[e.seq for e in batch] for _, batch in sink.batches] == [[1], [2]]
