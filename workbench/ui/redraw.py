"""The panes' redraw throttle: what changed since the last redraw, and when to redraw next.

Redrawing tables and status lines per batch cost most of a flood's CPU, so the panes redraw
at most every ``interval`` seconds, while the event log follows every batch.

Panes redraw right after the batch that finds them due, so that the log and the panes share
one frame, but as a message of their own (``call_later``), so a key pressed meanwhile is not
held up by both. The timer only catches the last changes once batches stop; it waits one batch
interval (``settle``) longer, or in a flood it would fire between batches, costing a frame of
its own each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

PANE_INTERVAL = 0.1
"""Seconds between pane refreshes during a flood; the event log itself follows every batch."""


class Stoppable(Protocol):
    def stop(self) -> None: ...


class Scheduler(Protocol):
    """What the throttle needs of a message pump (the app)."""

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Stoppable: ...


class RedrawThrottle:
    """Collects the ids that changed and calls ``redraw`` with them, at most every ``interval``."""

    def __init__(
        self,
        scheduler: Scheduler,
        redraw: Callable[[set[int]], None],
        *,
        settle: float,
        interval: float = PANE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scheduler = scheduler
        self._redraw = redraw
        self._settle, self._interval, self._clock = settle, interval, clock
        self._changed: set[int] = set()
        self._timer: Stoppable | None = None
        self._queued = False
        self._shown_at = 0.0

    def changed(self, ids: set[int]) -> None:
        """Note what changed; it is redrawn when the panes are next due."""
        self._changed |= ids

    def due(self) -> None:
        """The panes have something to show: redraw now if the interval has passed, else
        once it has (one timer at a time, and never two redraws queued)."""
        if self._queued:
            return
        wait = self._shown_at + self._interval - self._clock()
        if wait <= 0:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self._queued = True
            self._scheduler.call_later(self._run)
        elif self._timer is None:
            self._timer = self._scheduler.set_timer(wait + self._settle, self._run)

    def _run(self) -> None:
        self._timer = None
        self._queued = False
        self._shown_at = self._clock()
        changed, self._changed = self._changed, set()
        self._redraw(changed)
