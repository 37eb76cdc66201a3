"""Replay matching under Hypothesis: exact, masked only where asked, always safe to print."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from workbench.events import (
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Event,
    Received,
    Sent,
    Side,
)
from workbench.recording.compare import Comparison, Stream, diff_streams
from workbench.recording.scripts import Send, client_scripts

ANY_BYTES = st.binary(max_size=2048)
DIGITS = re.compile(rb"[0-9]+")


def is_safe_to_print(text: str) -> bool:
    return all(ch in "\n" or (ord(ch) >= 0x20 and ord(ch) != 0x7F) for ch in text)


@given(ANY_BYTES)
def test_identical_streams_match(data: bytes) -> None:
    assert diff_streams(data, data) is None


@given(ANY_BYTES, ANY_BYTES)
def test_different_streams_differ_with_a_printable_diff(expected: bytes, received: bytes) -> None:
    diff = diff_streams(expected, received)
    assert (diff is None) == (expected == received)
    if diff is not None:
        assert is_safe_to_print(diff), "a diff of peer bytes must not carry terminal controls"


@given(st.binary(max_size=512).filter(lambda b: not DIGITS.search(b)), st.integers(), st.integers())
def test_masking_hides_only_what_it_matches(frame: bytes, first: int, second: int) -> None:
    expected = frame + str(abs(first)).encode() + frame
    received = frame + str(abs(second)).encode() + frame
    assert diff_streams(expected, received, DIGITS) is None
    assert diff_streams(expected, received + b"!", DIGITS) is not None


@given(st.lists(st.tuples(st.sampled_from(["send", "recv"]), ANY_BYTES), max_size=20))
def test_a_script_replays_exactly_what_the_client_sent(steps: list[tuple[str, bytes]]) -> None:
    common = {"conn": 2, "side": Side.CLIENT, "local": Address("127.0.0.1", 40000)}
    common["remote"] = Address("127.0.0.1", 5000)
    events: list[Event] = [
        Connecting(seq=0, mono=0.0, wall=0.0, timeout=10.0, **common),
        Connected(seq=1, mono=0.0, wall=0.0, **common),
    ]
    for seq, (kind, data) in enumerate(steps, start=2):
        cls = Sent if kind == "send" else Received
        events.append(cls(seq=seq, mono=float(seq), wall=float(seq), data=data, **common))
    events.append(Closed(seq=99, mono=99.0, wall=99.0, by=Closer.LOCAL, **common))
    scripts = client_scripts(events)
    sent = b"".join(d for k, d in steps if k == "send")
    expected = b"".join(d for k, d in steps if k == "recv")
    assert [(s.sent, s.expected) for s in scripts] == [(sent, expected)]


any_time = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e300, -1e300])


@given(st.lists(st.tuples(st.sampled_from(["send", "recv"]), any_time), max_size=20), any_time)
def test_scripts_are_built_from_any_times(steps: list[tuple[str, float]], opened: float) -> None:
    """Scripts never raise over hand-built times (NaN, infinite, backwards)."""
    common = {"conn": 2, "side": Side.CLIENT, "local": Address("127.0.0.1", 40000)}
    events: list[Event] = [Connected(seq=1, mono=opened, wall=0.0, **common)]
    for seq, (kind, mono) in enumerate(steps, start=2):
        cls = Sent if kind == "send" else Received
        events.append(cls(seq=seq, mono=mono, wall=0.0, data=b"x", **common))
    assert len(client_scripts(events)) == 1


@given(st.lists(st.floats(0, 1e9), max_size=20))
def test_times_in_order_make_pauses_a_timer_can_take(gaps: list[float]) -> None:
    """What the reader hands out (finite, never backwards) gives finite pauses of 0 or more."""
    common = {"conn": 2, "side": Side.CLIENT, "local": Address("127.0.0.1", 40000)}
    events: list[Event] = [Connected(seq=1, mono=0.0, wall=0.0, **common)]
    mono = 0.0
    for seq, gap in enumerate(gaps, start=2):
        mono += gap
        events.append(Sent(seq=seq, mono=mono, wall=0.0, data=b"x", **common))
    (script,) = client_scripts(events)
    delays = [step.delay for step in script.steps if isinstance(step, Send)]
    assert all(math.isfinite(delay) and delay >= 0 for delay in delays)


@given(st.lists(st.binary(max_size=64), max_size=12), st.integers(0, 800), st.integers(0, 800))
def test_a_chunked_stream_slices_like_the_joined_bytes(
    chunks: list[bytes], start: int, end: int
) -> None:
    stream = Stream(chunks)
    joined = b"".join(chunks)
    assert len(stream) == len(joined) and stream.join() == joined
    assert stream.slice(start, end) == joined[start:end]


@given(st.lists(ANY_BYTES, max_size=6), st.lists(ANY_BYTES, max_size=6))
def test_comparing_on_arrival_agrees_with_comparing_whole_streams(
    recorded: list[bytes], arriving: list[bytes]
) -> None:
    comparison = Comparison(Stream(recorded), None)
    for chunk in arriving:
        comparison.add(chunk)
    whole = diff_streams(b"".join(recorded), b"".join(arriving))
    assert (comparison.diff() is None) == (whole is None)
    if whole is not None:
        assert comparison.diff() == whole
