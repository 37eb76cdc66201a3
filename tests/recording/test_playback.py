"""Watching a recording: paced by a clock the caller passes in, so no test here sleeps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.events import Event, Received, Side
from workbench.recording.playback import BEHIND_AFTER, MAX_LAG, SPEEDS, Playback

BIG = 1_000_000


def events_at(*monos: float) -> list[Event]:
    return [
        Received(seq=i, mono=m, wall=m, conn=1, side=Side.CLIENT, data=bytes([i % 256]))
        for i, m in enumerate(monos)
    ]


def seqs(batch: list[Event]) -> list[int]:
    return [e.seq for e in batch]


def test_one_x_hands_over_exactly_what_the_clock_has_reached() -> None:
    playback = Playback(events_at(10.0, 10.1, 10.2, 10.3, 13.0))
    assert seqs(playback.take(100.0, BIG)) == [0]  # the first event is due at once
    assert playback.delay(100.0) == pytest.approx(0.1)
    assert seqs(playback.take(100.25, BIG)) == [1, 2]  # one batch for everything due
    assert playback.delay(100.25) == pytest.approx(0.05)
    assert playback.elapsed(100.25) == pytest.approx(0.25)
    assert seqs(playback.take(100.31, BIG)) == [3]
    assert playback.delay(100.31) == pytest.approx(2.69)  # a long gap is slept through
    assert seqs(playback.take(102.0, BIG)) == []
    assert seqs(playback.take(103.0, BIG)) == [4]
    assert playback.done and playback.delay(103.0) is None and playback.take(104.0, BIG) == []
    assert playback.elapsed(104.0) == pytest.approx(3.0) == playback.duration


def test_speed_scales_the_recorded_gaps() -> None:
    playback = Playback(events_at(*(i * 0.01 for i in range(1001))), speed=100.0)
    playback.take(0.0, BIG)
    assert len(playback.take(0.05, BIG)) == 500  # 5 recorded seconds in 0.05 s at 100x
    assert playback.delay(0.05) == pytest.approx(0.0001)
    assert len(playback.take(0.1, BIG)) == 500 and playback.done


def test_a_bounded_batch_leaves_the_rest_due_without_losing_time() -> None:
    playback = Playback(events_at(*(i * 0.001 for i in range(100))))
    assert len(playback.take(0.0, 30)) == 1  # the clock starts at the first take
    assert len(playback.take(5.0, 30)) == 30
    assert playback.delay(5.0) == 0.0  # more is due: come back next frame
    assert len(playback.take(5.0, 30)) == 30
    assert seqs(playback.take(5.1, BIG)) == list(range(61, 100)) and playback.done


def test_simultaneous_events_come_together() -> None:
    playback = Playback(events_at(1.0, 1.0, 1.0, 2.0))
    assert seqs(playback.take(0.0, BIG)) == [0, 1, 2]


def test_pause_freezes_position_and_keeps_the_gap_left() -> None:
    playback = Playback(events_at(0.0, 1.0, 2.0))
    playback.take(50.0, BIG)
    playback.take(50.4, BIG)
    playback.pause(50.4)
    assert playback.delay(60.0) is None and playback.take(500.0, BIG) == []
    assert playback.elapsed(500.0) == pytest.approx(0.4) and playback.position == 1
    playback.resume(500.0)
    assert playback.delay(500.0) == pytest.approx(0.6)  # the 0.6 s still to go, not 1 s
    assert seqs(playback.take(500.6, BIG)) == [1]
    playback.toggle_pause(500.7)
    assert playback.paused
    playback.toggle_pause(900.0)
    assert not playback.paused and playback.delay(900.0) == pytest.approx(0.9)


def test_a_change_of_speed_keeps_the_place_and_scales_what_is_left() -> None:
    playback = Playback(events_at(0.0, 1.0))
    playback.take(0.0, BIG)
    playback.take(0.5, BIG)
    playback.faster(0.5)
    assert playback.speed == 2.0 and playback.delay(0.5) == pytest.approx(0.25)
    playback.slower(0.6)  # 0.2 recorded seconds later at 2x: 0.3 left at 1x
    assert playback.speed == 1.0 and playback.delay(0.6) == pytest.approx(0.3)
    assert playback.elapsed(0.6) == pytest.approx(0.7)


def test_step_pauses_and_the_next_event_keeps_its_recorded_gap() -> None:
    playback = Playback(events_at(0.0, 5.0, 10.0, 15.0))
    assert seqs(playback.step(0.0)) == [0]
    assert seqs(playback.step(1.0)) == [1]
    assert playback.paused and playback.position == 2 and playback.delay(9.0) is None
    assert playback.elapsed(99.0) == pytest.approx(5.0)
    playback.resume(100.0)
    assert playback.delay(100.0) == pytest.approx(5.0)


def test_rewind_starts_over_now_keeping_speed_and_pause() -> None:
    playback = Playback(events_at(0.0, 5.0, 10.0), speed=2.0)
    playback.take(0.0, BIG)
    playback.take(20.0, BIG)
    assert playback.done
    playback.rewind(30.0)
    assert playback.position == 0 and not playback.done and playback.speed == 2.0
    assert seqs(playback.take(30.0, BIG)) == [0] and playback.delay(30.0) == pytest.approx(2.5)
    playback.pause(31.0)
    playback.rewind(40.0)
    assert playback.paused and playback.take(41.0, BIG) == []


def test_to_end_hands_everything_over_in_bounded_batches_whatever_the_clock() -> None:
    playback = Playback(events_at(*(i * 3600.0 for i in range(25))))
    playback.pause(0.0)
    playback.to_end(0.0)
    assert playback.rushing and playback.delay(0.0) == 0.0
    assert len(playback.take(0.0, 10)) == 10 and len(playback.take(0.0, 10)) == 10
    assert len(playback.take(0.0, 10)) == 5 and playback.done and not playback.rushing
    assert playback.elapsed(0.0) == pytest.approx(24 * 3600.0)


def test_as_fast_as_possible_is_due_at_once_and_bounded_by_the_caller() -> None:
    playback = Playback(events_at(*range(5003)), speed=None)
    assert playback.delay(0.0) == 0.0 and playback.speed_label == "max"
    assert len(playback.take(0.0, 5000)) == 5000 and len(playback.take(0.0, 5000)) == 3


def test_falling_behind_is_measured_and_bounded() -> None:
    """A caller that hands over 100 events a frame cannot keep 10,000/s: it says so."""
    playback = Playback(events_at(*(i * 0.0001 for i in range(100_000))))
    now = 0.0
    for _ in range(120):  # four seconds at 30 frames a second
        playback.take(now, 100)
        now += 1 / 30
        # The clock slips instead of racing later: never more than a frame past MAX_LAG.
        assert playback.lag(now) <= MAX_LAG + 1 / 30 + 1e-9
    assert playback.behind(now) and playback.lag(now) > BEHIND_AFTER
    pace = playback.pace(now)
    assert pace is not None and pace == pytest.approx(0.3, rel=0.05)  # 3,000 events/s
    assert playback.position == 1 + 119 * 100  # the first frame had only event 0 due


def test_keeping_up_is_not_behind_and_paces_at_speed() -> None:
    playback = Playback(events_at(*(i * 0.003 for i in range(30_000))), speed=25.0)
    now = 0.0
    for _ in range(60):
        playback.take(now, BIG)
        now += 1 / 30
    assert not playback.behind(now) and playback.pace(now) == pytest.approx(25.0, rel=0.05)
    assert playback.elapsed(now) == pytest.approx((now - 1 / 30) * 25.0, abs=0.01)


class NoSlices(Sequence[Event]):
    """A lazy recording's stand-in: index access only, counting the events read."""

    def __init__(self, events: list[Event]) -> None:
        self._events = events
        self.reads = 0

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            raise AssertionError("playback sliced the events")
        self.reads += 1
        return self._events[index]


def test_any_sequence_read_by_index_only_as_far_as_is_taken() -> None:
    events = NoSlices(events_at(*(i * 0.001 for i in range(200_000))))
    playback = Playback(events)
    playback.take(0.0, BIG)
    reads = events.reads
    assert len(playback.take(1.0, BIG)) == 1000
    assert events.reads - reads <= 1000 + 1  # what was handed over, plus a look at the next
    playback.to_end(1.0)
    assert len(playback.take(1.0, 500)) == 500


def test_speed_stays_within_range() -> None:
    playback = Playback(events_at(0.0), speed=SPEEDS[0])
    playback.slower(0.0)
    assert playback.speed == 0.25
    for _ in SPEEDS:
        playback.faster(0.0)
    assert playback.speed is None and playback.speed_label == "max"
    with pytest.raises(ValueError):
        Playback(events_at(0.0), speed=3.0)


any_time = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e300, -1e300])


@given(st.lists(any_time, min_size=1, max_size=30), st.sampled_from(SPEEDS))
def test_the_schedule_is_always_usable_and_ends_whatever_the_times(
    monos: list[float], speed: float | None
) -> None:
    """The reader never hands out such times; events built by hand must not break the
    pacing: every wait is a finite number a timer takes, and waiting it always moves on."""
    playback = Playback(events_at(*monos), speed=speed)
    now = 0.0
    for _ in range(2 * len(monos) + 2):
        delay = playback.delay(now)
        if delay is None:
            break
        assert math.isfinite(delay) and delay >= 0
        now += delay
        assert playback.take(now, BIG)
        assert math.isfinite(playback.elapsed(now)) and playback.elapsed(now) >= 0
    assert playback.done
