"""The panes' redraw throttle, with a fake clock and a fake scheduler (no screen)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.ui.redraw import RedrawThrottle


class FakeTimer:
    def __init__(self, delay: float, callback: Callable[[], Any]) -> None:
        self.delay, self.callback, self.stopped = delay, callback, False

    def stop(self) -> None:
        self.stopped = True


class FakeScheduler:
    def __init__(self) -> None:
        self.soon: list[Callable[[], Any]] = []
        self.timers: list[FakeTimer] = []

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        self.soon.append(callback)
        return True

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> FakeTimer:
        self.timers.append(FakeTimer(delay, callback))
        return self.timers[-1]

    def run_soon(self) -> None:
        soon, self.soon = self.soon, []
        for callback in soon:
            callback()


def throttle() -> tuple[RedrawThrottle, FakeScheduler, list[set[int]], list[float]]:
    scheduler, redraws, now = FakeScheduler(), [], [100.0]
    panes = RedrawThrottle(
        scheduler, redraws.append, settle=0.03, interval=0.1, clock=lambda: now[0]
    )
    return panes, scheduler, redraws, now


def test_the_first_change_redraws_at_once_as_a_message_of_its_own() -> None:
    panes, scheduler, redraws, _ = throttle()
    panes.changed({1, 2})
    panes.due()
    assert redraws == [] and len(scheduler.soon) == 1, "queued, not drawn inside the batch"
    scheduler.run_soon()
    assert redraws == [{1, 2}]


def test_batches_before_the_redraw_ran_queue_no_second_redraw() -> None:
    panes, scheduler, redraws, _ = throttle()
    panes.changed({1})
    panes.due()
    panes.changed({2})
    panes.due()
    assert len(scheduler.soon) == 1 and scheduler.timers == []
    scheduler.run_soon()
    assert redraws == [{1, 2}], "one redraw with both batches' changes"


def test_within_the_interval_one_timer_waits_for_the_rest_plus_a_batch() -> None:
    panes, scheduler, redraws, now = throttle()
    panes.due()
    scheduler.run_soon()
    now[0] += 0.04
    for conn in (3, 4, 5):
        panes.changed({conn})
        panes.due()
    [timer] = scheduler.timers
    assert abs(timer.delay - (0.06 + 0.03)) < 1e-9
    assert scheduler.soon == []
    timer.callback()
    assert redraws[-1] == {3, 4, 5}


def test_a_batch_after_the_interval_redraws_at_once_and_stops_the_waiting_timer() -> None:
    panes, scheduler, redraws, now = throttle()
    panes.due()
    scheduler.run_soon()
    now[0] += 0.05
    panes.due()
    [timer] = scheduler.timers
    now[0] += 0.1
    panes.changed({7})
    panes.due()
    assert timer.stopped and len(scheduler.soon) == 1
    scheduler.run_soon()
    assert redraws[-1] == {7}
