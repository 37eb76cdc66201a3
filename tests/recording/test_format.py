"""Line-level tests of the recording format: encoding, exact decoding and the version policy."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import __version__
from workbench.events import (
    EVENT_TYPES,
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Error,
    Event,
    HalfClosed,
    Listening,
    PeerEof,
    Received,
    Sent,
    Side,
    Stopped,
)
from workbench.recording.format import (
    FORMAT_VERSION,
    MAX_MONO,
    MAX_SECONDS,
    MIGRATIONS,
    PREVIEW_BYTES,
    Header,
    RecordingError,
    decode_event,
    decode_header,
    encode_event,
    encode_event_parts,
    encode_header,
    new_header,
    parse_line,
    raw_size,
)

START = 1000.0
V4 = Address("127.0.0.1", 5000)
V6 = Address("::1", 40000)
BASE: dict[str, Any] = {"mono": 1000.5, "wall": 1_700_000_000.5, "conn": 3}

SAMPLES: list[Event] = [
    Listening(seq=1, side=Side.LISTENER, local=V4, backlog=128, **BASE),
    Stopped(seq=2, side=Side.LISTENER, local=V6, **BASE),
    Accepted(seq=3, side=Side.PEER, local=V4, remote=V4, listener=1, **BASE),
    Connecting(seq=4, side=Side.CLIENT, remote=V6, timeout=2.5, **BASE),
    Connected(seq=5, side=Side.CLIENT, local=V6, remote=V6, **BASE),
    Sent(seq=6, side=Side.CLIENT, local=V6, remote=V6, data=bytes(range(256)), **BASE),
    Received(seq=7, side=Side.PEER, local=V4, remote=V4, data=b"", **BASE),
    PeerEof(seq=8, side=Side.PEER, **BASE),
    HalfClosed(seq=9, side=Side.CLIENT, **BASE),
    Closed(seq=10, side=Side.PEER, by=Closer.PEER_RESET, **BASE),
    Error(seq=11, side=Side.CLIENT, operation="connect", errno=None, message="m", hint="h", **BASE),
    Error(seq=12, side=Side.CLIENT, operation="send", errno=32, message="é\udcff", hint="", **BASE),
]


def header(version: tuple[int, int] = FORMAT_VERSION) -> Header:
    return Header(version, __version__, "2023-11-14T22:13:20.000+00:00", 1.7e9, START, "host")


def round_trip(event: Event) -> Event:
    line = encode_event(event, START)
    return decode_event(parse_line(line.encode(), 2), 2, header())


def event_dict(**changes: object) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(encode_event(SAMPLES[5], START))
    obj.update(changes)
    return obj


def test_samples_cover_every_kind() -> None:
    assert {event.kind for event in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: f"{event.kind}-{event.seq}")
def test_every_kind_round_trips_exactly(event: Event) -> None:
    assert round_trip(event) == event


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: f"{event.kind}-{event.seq}")
def test_lines_are_single_ascii_json_objects(event: Event) -> None:
    line = encode_event(event, START)
    assert "\n" not in line and line.isascii()
    obj = json.loads(line)
    assert list(obj)[:8] == ["t", "kind", "seq", "conn", "side", "local", "remote", "wall"]
    assert obj["t"] == 0.5 and obj["kind"] == event.kind


def test_payload_lines_carry_base64_size_and_preview() -> None:
    obj = json.loads(encode_event(Sent(seq=1, side=Side.CLIENT, data=b"hi\n\xff", **BASE), START))
    assert (obj["data_b64"], obj["size"], obj["text"]) == ("aGkK/w==", 4, "hi\n\\xff")


def test_preview_is_short_and_never_read_back() -> None:
    event = Sent(seq=1, side=Side.CLIENT, data=b"x" * (PREVIEW_BYTES * 4), **BASE)
    obj = json.loads(encode_event(event, START))
    assert obj["text"] == "x" * PREVIEW_BYTES + "…"
    obj["text"] = "something else entirely"
    assert decode_event(obj, 2, header()) == event


def test_non_finite_numbers_stay_readable_by_jq() -> None:
    event = Connecting(seq=1, side=Side.CLIENT, timeout=math.inf, **BASE)
    line = encode_event(event, START)

    def reject(constant: str) -> None:
        raise AssertionError(f"jq cannot read {constant}")

    assert json.loads(line, parse_constant=reject)["timeout"] == "inf"
    assert round_trip(event) == event


def test_mono_is_rebuilt_from_the_header_start() -> None:
    obj = event_dict(t=2.25)
    assert decode_event(obj, 2, header()).mono == START + 2.25


@pytest.mark.parametrize(
    "address",
    [V4, V6, Address("fe80::1%eth0", 0), Address("/tmp/a:b", 0), Address("[x]", 1), Address("", 0)],
)
def test_addresses_parse_back_exactly(address: Address) -> None:
    assert Address.parse(str(address)) == address


@pytest.mark.parametrize("text", ["", "host", "host:", "host:port", "::1:80", "[::1]", "h:70000"])
def test_malformed_addresses_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        Address.parse(text)


def test_header_line_says_what_it_is() -> None:
    line = encode_header(new_header(1_700_000_000.0, START))
    obj = json.loads(line)
    assert obj == {
        "format": "workbench-recording",
        "version": "2.1",
        "tool_version": __version__,
        "started": "2023-11-14T22:13:20.000+00:00",
        "started_wall": 1_700_000_000.0,
        "started_mono": START,
        "host": obj["host"],
    }
    assert decode_header(obj) == new_header(1_700_000_000.0, START)


def test_newer_major_version_is_refused_clearly() -> None:
    obj = json.loads(encode_header(header()))
    obj["version"] = "3.0"
    with pytest.raises(RecordingError) as caught:
        decode_header(obj)
    assert str(caught.value) == (
        "line 1: recording format version 3.0 is newer than this workbench understands (1.x, 2.x)"
    )
    assert caught.value.line_no == 1


def test_older_major_without_migration_is_refused_clearly() -> None:
    obj = json.loads(encode_header(header()))
    obj["version"] = "0.3"
    with pytest.raises(RecordingError, match=r"version 0\.3 is older .* \(1\.x, 2\.x\)"):
        decode_header(obj)


def test_newer_minor_version_is_accepted_and_unknown_fields_ignored() -> None:
    obj = json.loads(encode_header(header()))
    obj.update(version="1.7", weather="sunny")
    assert decode_header(obj).version == (1, 7)
    assert decode_event(event_dict(colour="blue"), 2, header((1, 7))) == SAMPLES[5]


def test_migrations_upgrade_old_majors(monkeypatch: pytest.MonkeyPatch) -> None:
    def rename_type_to_kind(old: dict[str, Any]) -> dict[str, Any]:
        new = dict(old)
        new["kind"] = new.pop("type")
        return new

    monkeypatch.setitem(MIGRATIONS, 0, rename_type_to_kind)
    obj = json.loads(encode_header(header()))
    obj["version"] = "0.3"
    old_header = decode_header(obj)
    old_event = event_dict()
    old_event["type"] = old_event.pop("kind")
    assert decode_event(old_event, 2, old_header) == SAMPLES[5]
    with pytest.raises(RecordingError, match=r"line 9: cannot upgrade .* from format 0\.x"):
        decode_event(event_dict(), 9, old_header)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seq": "6"}, "field 'seq' should be an integer, found '6'"),
        ({"seq": True}, "field 'seq' should be an integer"),
        ({"t": "soon"}, "field 't' should be a number"),
        ({"t": 10**400}, "field 't' should be a number"),
        ({"side": "nobody"}, "field 'side' should be one of listener, peer, client"),
        ({"local": "nowhere"}, "field 'local' should be \"host:port\" or null"),
        ({"local": 5000}, "field 'local' should be \"host:port\" or null"),
        ({"data_b64": "not base64!"}, "field 'data_b64' should be base64 text"),
        ({"data_b64": "é"}, "field 'data_b64' should be base64 text"),
        ({"data_b64": None}, "field 'data_b64' should be base64 text"),
        ({"kind": "teleport"}, "unknown event kind 'teleport'"),
        ({"kind": ["recv"]}, "field 'kind' should be a string, found ['recv']"),
    ],
)
def test_wrong_field_values_name_the_field_and_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordingError) as caught:
        decode_event(event_dict(**changes), 7, header())
    assert str(caught.value).startswith(f"line 7: {message}")


def test_missing_fields_are_named() -> None:
    obj = event_dict()
    del obj["conn"]
    with pytest.raises(RecordingError, match="line 4: missing field 'conn'"):
        decode_event(obj, 4, header())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{nope", "not JSON"),
        (b"\xff{}", "not UTF-8 text"),
        (b"[1, 2]", "expected a JSON object, found list"),
        (b"1" * 5000, "not JSON"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_lines_that_are_not_json_objects(raw: bytes, message: str) -> None:
    with pytest.raises(RecordingError, match=f"^line 3: {message}"):
        parse_line(raw, 3)


def test_errors_name_the_file_once_a_reader_knows_it() -> None:
    error = RecordingError("not JSON (x)", line_no=7).in_file("recordings/x.jsonl")
    assert str(error) == "recordings/x.jsonl line 7: not JSON (x)"
    assert error.line_no == 7


def test_version_1_0_send_lines_without_pending_still_read() -> None:
    """1.1 added Sent.pending; files written by 1.0 lack it and read with pending 0."""
    header = decode_header(
        {
            "format": "workbench-recording",
            "version": "1.0",
            "tool_version": "0.1.0",
            "started": "2023-11-14T22:13:20.000+00:00",
            "started_wall": 1_700_000_000.0,
            "started_mono": START,
            "host": "h",
        }
    )
    line = {
        "t": 0.5, "kind": "send", "seq": 1, "conn": 2, "side": "client",
        "local": "127.0.0.1:1", "remote": "127.0.0.1:2", "wall": 1.0, "data_b64": "aGk=",
    }  # fmt: skip
    event = decode_event(line, 2, header)
    assert isinstance(event, Sent) and event.data == b"hi" and event.pending == 0


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event.kind)
def test_raw_framing_round_trips_every_kind(event: Event) -> None:
    whole = b"".join(encode_event_parts(event, START))
    line, after = whole.split(b"\n", 1)
    obj = parse_line(line + b"\n", 2)
    size = raw_size(obj, 2, header())
    if isinstance(event, Sent | Received):
        assert (size, after) == (len(event.data), event.data + b"\n")
        assert "data_b64" not in obj and "text" not in obj  # nothing is stored twice
    else:
        assert (size, after) == (None, b"")
    raw = None if size is None else after[:size]
    assert decode_event(obj, 2, header(), raw) == event


@pytest.mark.parametrize("value", [-1, "5", 1.0, True, None])
def test_a_raw_count_must_be_a_byte_count(value: object) -> None:
    with pytest.raises(RecordingError, match=r"line 4: field 'raw' should be a byte count"):
        raw_size({"kind": "recv", "raw": value}, 4, header())


def test_format_1_lines_never_frame_raw_bytes() -> None:
    assert raw_size({"kind": "recv", "raw": 5}, 2, header((1, 1))) is None


def test_raw_bytes_after_an_event_without_a_payload_are_an_error() -> None:
    obj = json.loads(encode_event(SAMPLES[7], START))
    message = "line 3: raw bytes follow this line, but eof events carry no payload"
    with pytest.raises(RecordingError, match=message):
        decode_event(obj, 3, header(), b"surprise")


any_time = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.sampled_from(["nan", "inf", "-inf", MAX_SECONDS, -MAX_SECONDS, True, None, "1.0"])
)


@given(any_time, any_time)
def test_any_time_decodes_to_a_usable_one_or_is_refused(t: object, started_mono: object) -> None:
    """NaN, infinities, huge or negative numbers: a RecordingError, or a finite ``mono``."""
    obj = json.loads(encode_header(header()))
    obj["started_mono"] = started_mono
    try:
        event = decode_event(event_dict(t=t), 2, decode_header(obj))
    except RecordingError:
        return
    assert math.isfinite(event.mono) and abs(event.mono) <= MAX_MONO + MAX_SECONDS
