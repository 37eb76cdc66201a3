"""Watching a recording: which events are due, at what speed, with pause, step and jumps.

Pure bookkeeping (no clock, no UI): the caller asks how long to wait before the next event and
takes what is due, so the same logic serves a UI timer and a test without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.events import Event

SPEEDS: tuple[float | None, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, None)
"""Playback speeds from slow motion to 100x; None plays as fast as possible."""

FAST_BATCH = 5000
"""As fast as possible still hands events over in batches, so the screen keeps up."""


@dataclass
class Playback:
    """A cursor over a recording's events with the recorded gaps scaled by ``speed``."""

    events: Sequence[Event]
    position: int = 0
    speed: float | None = 1.0
    paused: bool = False

    @property
    def done(self) -> bool:
        return self.position >= len(self.events)

    @property
    def speed_label(self) -> str:
        return "max" if self.speed is None else f"{self.speed:g}x"

    def delay(self) -> float | None:
        """Seconds until the next event is due; None when paused or finished.

        Always a finite number of seconds, 0 or more, whatever times the events hold (the
        reader makes them so; events built by hand are not trusted either): timers take it.
        """
        if self.paused or self.done:
            return None
        if self.speed is None or self.position == 0:
            return 0.0
        gap = self.events[self.position].mono - self.events[self.position - 1].mono
        delay = gap / self.speed
        return delay if math.isfinite(delay) and delay > 0 else 0.0

    def take(self) -> list[Event]:
        """The next due event, plus those recorded at the same instant (or a batch at max)."""
        if self.done:
            return []
        if self.speed is None:
            end = min(self.position + FAST_BATCH, len(self.events))
        else:
            end = self.position + 1
            start_mono = self.events[self.position].mono
            while end < len(self.events) and self.events[end].mono <= start_mono:
                end += 1
        batch = list(self.events[self.position : end])
        self.position = end
        return batch

    def step(self) -> list[Event]:
        """One event, and stay paused: for reading a conversation move by move."""
        self.paused = True
        if self.done:
            return []
        self.position += 1
        return [self.events[self.position - 1]]

    def rest(self) -> list[Event]:
        """Jump to the end: everything not yet shown."""
        batch = list(self.events[self.position :])
        self.position = len(self.events)
        return batch

    def rewind(self) -> None:
        self.position = 0

    def faster(self) -> None:
        self.speed = SPEEDS[min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1)]

    def slower(self) -> None:
        self.speed = SPEEDS[max(SPEEDS.index(self.speed) - 1, 0)]
