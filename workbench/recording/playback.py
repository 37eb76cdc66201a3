"""Watching a recording: which events are due, at what speed, with pause, step and jumps.

How this works: Playback holds no clock. Every call that depends on time takes ``now`` (seconds
on any monotonic clock; the UI passes ``time.monotonic()``, tests pass numbers), so the pacing
is tested without sleeping. While playing, the recording instant due at ``now`` is

    anchor_time + (now - anchor_now) * speed

and ``take(now, limit)`` hands over, in order and at most ``limit`` at a time, every event
recorded up to it: the caller bounds each frame's work and calls again next frame. Whatever
changes the pace (pause, resume, speed, step, rewind) first fixes the recording instant reached
so far and re-anchors there, so the gap left to the next event survives it.

A caller that cannot keep up falls behind: events stay due, ``lag(now)`` says by how many
seconds, and ``pace(now)`` measures the speed actually achieved, so the screen can say so
rather than claim a speed it does not reach. Lag never grows past MAX_LAG: beyond it the
anchor slips forward, so a stall is not followed by a long race to catch up.

Event times come from the reader (finite, never running backwards) but events built by hand are
not trusted either: a time that is not finite or beyond TIME_LIMIT counts as "due at once", and
a time before the instant already reached is due at once too. Delays are always finite.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

from workbench.events import Event

SPEEDS: tuple[float | None, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, None)
"""Playback speeds from slow motion to 100x; None plays as fast as possible."""

TIME_LIMIT = 1e12
"""Event times beyond this many seconds either way (the reader allows 1e9) have no usable time."""

MAX_LAG = 1.0
"""Seconds of wall time playback may fall behind the clock before the clock slips."""

BEHIND_AFTER = 0.5
"""Seconds of lag from which playback reports itself behind (one slow frame is not)."""

PACE_WINDOW = 2.0
"""Seconds of recent history the measured pace is taken over."""

_PACE_MIN_SPAN = 0.5
_DUE_SLACK = 1e-9
"""A relative tolerance so a caller that waited exactly ``delay()`` finds the event due."""


def _usable(time: float) -> bool:
    return math.isfinite(time) and abs(time) <= TIME_LIMIT


class Playback:
    """A cursor over a recording's events with the recorded gaps scaled by ``speed``.

    ``events`` is any sequence (a list, or a lazy view over a file): only ``len`` and reading
    by index are used, one event at a time, and only as far as the caller takes.
    ``position``, ``speed`` and ``paused`` are for reading: change them through the methods,
    which re-anchor the clock.
    """

    def __init__(
        self, events: Sequence[Event], *, speed: float | None = 1.0, paused: bool = False
    ) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}")
        self.events = events
        self.position = 0
        self.speed = speed
        self.paused = paused
        self.start_time, self.end_time = self._span()
        self._at = self.start_time  # the recording instant reached at _since
        self._since: float | None = None  # wall instant of _at; None until playing starts
        self._rushing = False  # jumping to the end: time no longer matters
        self._samples: deque[tuple[float, float]] = deque()  # (now, reached) for pace()
        self._peeked = (-1, 0.0)  # (index, time) of the event last looked at, not taken

    # -- state ---------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.position >= len(self.events)

    @property
    def rushing(self) -> bool:
        """True while a jump to the end is being handed over."""
        return self._rushing and not self.done

    @property
    def speed_label(self) -> str:
        return "max" if self.speed is None else f"{self.speed:g}x"

    @property
    def duration(self) -> float:
        """Recorded seconds from the first event to the last."""
        return self.end_time - self.start_time

    def elapsed(self, now: float) -> float:
        """Recorded seconds played so far: where the playback stands in the recording."""
        return max(0.0, self._reached(now) - self.start_time)

    def delay(self, now: float) -> float | None:
        """Seconds until the next event is due (0 when one is due or overdue); None when
        paused or finished. Always a finite number, 0 or more, whatever the events' times."""
        if self.done or (self.paused and not self._rushing):
            return None
        gap = self._gap(self.position)
        if self._rushing or self.speed is None or gap <= 0:
            return 0.0
        wait = gap / self.speed - self._elapsed_wall(now)
        return wait if wait > 0 else 0.0

    def lag(self, now: float) -> float:
        """Wall seconds the next event is overdue: how far behind the clock playback is."""
        if self.done or self.paused or self._rushing or self.speed is None:
            return 0.0
        if self._since is None:
            return 0.0
        return max(0.0, self._elapsed_wall(now) - max(0.0, self._gap(self.position)) / self.speed)

    def behind(self, now: float) -> bool:
        return self.lag(now) > BEHIND_AFTER

    def pace(self, now: float) -> float | None:
        """Recorded seconds played per wall second over the last PACE_WINDOW seconds, or None
        before there is enough history (just started, resumed or changed speed)."""
        self._note(now)
        first_now, first_reached = self._samples[0]
        span = now - first_now
        if span < _PACE_MIN_SPAN:
            return None
        return (self._reached(now) - first_reached) / span

    # -- playing -------------------------------------------------------------------------------

    def take(self, now: float, limit: int) -> list[Event]:
        """Hand over, in order, the events due at ``now``: at most ``limit`` of them."""
        if self.done or limit < 1 or (self.paused and not self._rushing):
            return []
        if self._since is None:
            self._since = now
        due = math.inf
        if not self._rushing and self.speed is not None:
            due = self._elapsed_wall(now) * self.speed
        batch: list[Event] = []
        events, at = self.events, self._at
        while len(batch) < limit and self.position < len(events):
            event = events[self.position]
            time = event.mono
            if _usable(time) and time - at > due + _DUE_SLACK * (1.0 + abs(time - at)):
                self._peeked = (self.position, time)
                break
            batch.append(event)
            self.position += 1
        self._slip(now)
        self._note(now)
        return batch

    def step(self, now: float) -> list[Event]:
        """One event, and stay paused: for reading a conversation move by move."""
        self._stop_rushing(now)
        self.pause(now)
        if self.done:
            return []
        event = self.events[self.position]
        self.position += 1
        if _usable(event.mono) and event.mono > self._at:
            self._at = event.mono
        return [event]

    def pause(self, now: float) -> None:
        self._fix(now)
        self.paused = True

    def resume(self, now: float) -> None:
        self._fix(now)
        self.paused = False

    def toggle_pause(self, now: float) -> None:
        if self.paused:
            self.resume(now)
        else:
            self.pause(now)

    def faster(self, now: float) -> None:
        self._fix(now)
        self.speed = SPEEDS[min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1)]

    def slower(self, now: float) -> None:
        self._fix(now)
        self.speed = SPEEDS[max(SPEEDS.index(self.speed) - 1, 0)]

    def rewind(self, now: float) -> None:
        """Back to the first event, keeping the speed and whether it is paused."""
        self._rushing = False
        self.position = 0
        self._at = self.start_time
        self._since = now
        self._samples.clear()

    def to_end(self, now: float) -> None:
        """Jump to the end: from now on ``take`` hands over everything left, time regardless,
        still at most ``limit`` per call so a huge recording never blocks the screen."""
        self._fix(now)
        self._rushing = True

    # -- bookkeeping ---------------------------------------------------------------------------

    def _span(self) -> tuple[float, float]:
        """The first and last events' times (read once: the events may be a lazy view)."""
        if not self.events:
            return 0.0, 0.0
        first, last = self.events[0].mono, self.events[len(self.events) - 1].mono
        start = first if _usable(first) else 0.0
        return start, (max(start, last) if _usable(last) else start)

    def _gap(self, index: int) -> float:
        """Recorded seconds from the instant reached at the anchor to event ``index``."""
        peeked, time = self._peeked
        if peeked != index:
            time = self.events[index].mono
            self._peeked = (index, time)
        return time - self._at if _usable(time) else 0.0

    def _elapsed_wall(self, now: float) -> float:
        return 0.0 if self._since is None else max(0.0, now - self._since)

    def _reached(self, now: float) -> float:
        """The recording instant playback stands at: the clock, or the next event if late."""
        if self.done:
            return max(self._at, self.end_time)
        if self.paused or self._since is None or self._rushing:
            return self._at
        gap = max(0.0, self._gap(self.position))
        if self.speed is None:
            return self._at + gap
        return self._at + min(self._elapsed_wall(now) * self.speed, gap)

    def _fix(self, now: float) -> None:
        """Re-anchor at the instant reached so far; pace history starts over."""
        self._at = self._reached(now)
        self._since = now
        self._samples.clear()

    def _stop_rushing(self, now: float) -> None:
        if self._rushing:
            self._rushing = False
            self._fix(now)

    def _slip(self, now: float) -> None:
        if self.speed is not None and self.lag(now) > MAX_LAG:
            self._at = self._reached(now)
            self._since = now - MAX_LAG

    def _note(self, now: float) -> None:
        samples = self._samples
        if not samples or now > samples[-1][0]:
            samples.append((now, self._reached(now)))
        while len(samples) > 2 and now - samples[1][0] >= PACE_WINDOW:
            samples.popleft()
