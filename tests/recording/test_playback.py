"""Watching a recording: timing scaled by speed, pause, step and jumps, without a clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.events import Received, Side
from workbench.recording.playback import FAST_BATCH, SPEEDS, Playback


def events_at(*monos: float) -> list[Received]:
    return [
        Received(seq=i, mono=m, wall=m, conn=1, side=Side.CLIENT, data=bytes([i % 256]))
        for i, m in enumerate(monos)
    ]


def test_recorded_gaps_scaled_by_speed() -> None:
    playback = Playback(events_at(10.0, 11.0, 13.0), speed=2.0)
    assert playback.delay() == 0.0
    assert [e.seq for e in playback.take()] == [0]
    assert playback.delay() == pytest.approx(0.5)
    playback.take()
    playback.slower()
    assert playback.speed == 1.0 and playback.delay() == pytest.approx(2.0)
    playback.take()
    assert playback.done and playback.delay() is None and playback.take() == []


def test_simultaneous_events_come_together() -> None:
    playback = Playback(events_at(1.0, 1.0, 1.0, 2.0))
    assert [e.seq for e in playback.take()] == [0, 1, 2]


def test_pause_step_and_jumps() -> None:
    playback = Playback(events_at(0.0, 5.0, 10.0, 15.0))
    playback.paused = True
    assert playback.delay() is None
    assert [e.seq for e in playback.step()] == [0]
    assert playback.paused and playback.position == 1
    assert [e.seq for e in playback.rest()] == [1, 2, 3] and playback.done
    playback.rewind()
    assert playback.position == 0 and not playback.done


def test_as_fast_as_possible_batches() -> None:
    playback = Playback(events_at(*range(FAST_BATCH + 3)), speed=None)
    assert playback.delay() == 0.0 and playback.speed_label == "max"
    assert len(playback.take()) == FAST_BATCH and len(playback.take()) == 3


def test_speed_stays_within_range() -> None:
    playback = Playback(events_at(0.0), speed=SPEEDS[0])
    playback.slower()
    assert playback.speed == 0.25
    for _ in SPEEDS:
        playback.faster()
    assert playback.speed is None and playback.speed_label == "max"


any_time = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e300, -1e300])


@given(st.lists(any_time, min_size=1, max_size=30), st.sampled_from(SPEEDS))
def test_the_schedule_is_always_a_usable_timer_whatever_the_times(
    monos: list[float], speed: float | None
) -> None:
    """The reader never hands out such times; events built by hand must not break timers."""
    playback = Playback(events_at(*monos), speed=speed)
    for _ in monos:
        delay = playback.delay()
        if delay is None:
            break
        assert math.isfinite(delay) and delay >= 0
        assert playback.take()
    assert playback.done
