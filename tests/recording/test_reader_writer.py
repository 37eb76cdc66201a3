"""Recordings through real files: round trips, crash damage, hostile bytes and failing disks."""

from __future__ import annotations

import base64
import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from workbench.recording import writer as writer_module
from workbench.recording.format import RecordingError
from workbench.recording.reader import RecordingReader, iter_events, read_recording
from workbench.recording.writer import (
    RecordingWriteError,
    RecordingWriter,
    default_recording_path,
)

START = 1000.0  # events between START and 2 * START rebuild their mono exactly from t
V4 = Address("192.168.1.20", 5000)
V6 = Address("2001:db8::7", 443)


def every_kind_of_event() -> list[Event]:
    """At least one of each kind, with the awkward values a recording must keep exactly."""
    made: list[Event] = []

    def add(cls: type[Event], side: Side = Side.PEER, **fields: Any) -> None:
        seq = len(made) + 1
        base = {"mono": START + seq / 3, "wall": 1_700_000_000 + seq / 7, "conn": seq % 4}
        made.append(cls(seq=seq, side=side, **(base | fields)))

    add(Listening, Side.LISTENER, local=V4, backlog=5)
    add(Listening, Side.LISTENER, local=V6, backlog=128)
    add(Accepted, local=V4, remote=Address("10.0.0.9", 61000), listener=1)
    add(Accepted, local=V6, remote=Address("fe80::1%eth0", 61001), listener=2)
    add(Connecting, Side.CLIENT, remote=V6, timeout=5.0)
    add(Connected, Side.CLIENT, local=Address("::1", 40000), remote=V6)
    add(Sent, Side.CLIENT, local=V4, remote=V4, data=bytes(range(256)) * 3)
    add(Received, local=V6, remote=V6, data=b"")
    add(Received, local=V4, remote=V4, data=os.urandom(1 << 20))
    add(Sent, data=b"GET / HTTP/1.1\r\n\r\n")
    add(PeerEof, local=V4, remote=V4)
    add(HalfClosed, Side.CLIENT, local=V6, remote=V6)
    for closer in Closer:
        add(Closed, local=V4, remote=V4, by=closer)
    add(Error, Side.CLIENT, operation="connect", errno=None, message="timed out", hint="up?")
    add(Error, operation="send", errno=errno.EPIPE, message="Broken pipe", hint="peer left")
    add(Stopped, Side.LISTENER, local=V4)
    return made


EVENTS = every_kind_of_event()


def record(path: Path, events: list[Event]) -> Path:
    with RecordingWriter.open(path, started_wall=1_700_000_000.0, started_mono=START) as rec:
        for event in events:
            rec.write(event)
    return path


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The writer's monotonic clock, moved by hand so flush timing is deterministic."""
    now = [50.0]
    monkeypatch.setattr(writer_module, "monotonic", lambda: now[0])
    yield now


def test_every_kind_of_event_round_trips_exactly(tmp_path: Path) -> None:
    assert {event.kind for event in EVENTS} == set(EVENT_TYPES)
    recording = read_recording(record(tmp_path / "r.jsonl", EVENTS))
    assert recording.events == EVENTS
    assert (recording.truncated, recording.warning) == (False, None)
    assert recording.header.started_mono == START
    assert recording.path == tmp_path / "r.jsonl"


def test_iter_events_streams_the_same_events(tmp_path: Path) -> None:
    assert list(iter_events(record(tmp_path / "r.jsonl", EVENTS))) == EVENTS


def test_payloads_are_stored_raw_after_their_line(tmp_path: Path) -> None:
    sent = Sent(seq=1, mono=START, wall=0.0, conn=1, side=Side.CLIENT, data=b"GET /\r\n\x1b[2J\n")
    path = record(tmp_path / "r.wbrec", [sent, EVENTS[0]])
    _, line, rest = path.read_bytes().split(b"\n", 2)
    assert json.loads(line)["raw"] == len(sent.data)
    assert rest.startswith(sent.data + b"\n{")


def export_jsonl(source: Path, target: Path) -> Path:
    """``workbench show --jsonl``, run as people run it, its output saved to ``target``."""
    with target.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "workbench", "show", "--jsonl", str(source)],
            stdout=out,
            check=True,
        )
    return target


def test_the_jsonl_export_reads_back_as_the_same_events(tmp_path: Path) -> None:
    exported = export_jsonl(record(tmp_path / "r.wbrec", EVENTS), tmp_path / "r.jsonl")
    lines = exported.read_bytes().splitlines()
    assert len(lines) == len(EVENTS) + 1  # pure JSON Lines: no payload spans lines
    assert all(b'"raw"' not in line for line in lines)
    assert read_recording(exported).events == EVENTS


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_reads_every_line_of_the_export(tmp_path: Path) -> None:
    exported = export_jsonl(record(tmp_path / "r.wbrec", EVENTS), tmp_path / "r.jsonl")
    done = subprocess.run(
        ["jq", "-r", "select(.data_b64) | .data_b64"],
        input=exported.read_bytes(),
        capture_output=True,
        check=True,
    )
    payloads = [base64.b64decode(text) for text in done.stdout.splitlines()]
    assert payloads == [event.data for event in EVENTS if isinstance(event, Sent | Received)]


def test_counters_match_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with RecordingWriter.open(path, started_mono=START) as rec:
        for event in EVENTS[:3]:
            rec.write(event)
        rec.flush()
        assert rec.events_written == 3
        assert rec.bytes_written == path.stat().st_size
    assert rec.closed


def test_files_are_owner_only_and_folders_are_created(tmp_path: Path) -> None:
    path = record(tmp_path / "new" / "folder" / "r.jsonl", [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingWriteError) as caught:
        RecordingWriter.open(path)
    assert caught.value.errno == errno.EEXIST
    assert "already exists" in str(caught.value)
    assert path.read_bytes() == b"precious"


def test_default_path_is_named_after_the_time_and_never_exists(tmp_path: Path) -> None:
    now = datetime(2024, 3, 5, 7, 8, 9)
    first = default_recording_path(tmp_path, now)
    assert first == tmp_path / "session-20240305-070809.wbrec"
    first.touch()
    (tmp_path / "session-20240305-070809-2.wbrec").symlink_to(tmp_path / "missing")
    assert default_recording_path(tmp_path, now) == tmp_path / "session-20240305-070809-3.wbrec"


def test_default_path_defaults_to_now(tmp_path: Path) -> None:
    assert default_recording_path(tmp_path).name.startswith(f"session-{datetime.now():%Y%m%d}")


def test_flushed_events_are_visible_to_another_reader(
    tmp_path: Path, frozen_clock: list[float]
) -> None:
    path = tmp_path / "r.jsonl"
    with RecordingWriter.open(path, started_mono=START) as rec:
        rec.write(EVENTS[0])
        assert read_recording(path).events == []  # buffered: written within the interval
        rec.flush()
        assert read_recording(path).events == EVENTS[:1]


def test_write_flushes_once_the_interval_has_passed(
    tmp_path: Path, frozen_clock: list[float]
) -> None:
    path = tmp_path / "r.jsonl"
    with RecordingWriter.open(path, started_mono=START) as rec:
        rec.write(EVENTS[0])
        frozen_clock[0] += RecordingWriter.FLUSH_INTERVAL
        rec.write(EVENTS[1])
        assert read_recording(path).events == EVENTS[:2]


def test_flush_if_due_writes_an_idle_tail(tmp_path: Path, frozen_clock: list[float]) -> None:
    path = tmp_path / "r.jsonl"
    with RecordingWriter.open(path, started_mono=START) as rec:
        rec.write(EVENTS[0])
        rec.flush_if_due()
        assert rec.events_written == 0
        frozen_clock[0] += RecordingWriter.FLUSH_INTERVAL
        rec.flush_if_due()
        assert read_recording(path).events == EVENTS[:1]


def test_a_big_buffer_is_flushed_at_once(tmp_path: Path, frozen_clock: list[float]) -> None:
    big = next(e for e in EVENTS if isinstance(e, Received) and e.size == 1 << 20)
    with RecordingWriter.open(tmp_path / "r.jsonl", started_mono=START) as rec:
        rec.write(big)
        assert rec.events_written == 1


def test_writing_after_close_is_a_bug(tmp_path: Path) -> None:
    rec = RecordingWriter.open(tmp_path / "r.jsonl")
    rec.close()
    rec.close()
    with pytest.raises(ValueError, match="closed"):
        rec.write(EVENTS[0])


def test_a_crash_mid_line_keeps_every_complete_event(tmp_path: Path) -> None:
    small = [e for e in EVENTS if not isinstance(e, Sent | Received)]
    path = record(tmp_path / "r.jsonl", small)
    whole = path.read_bytes()
    last_line_start = whole.rindex(b"\n", 0, -1) + 1
    last_line_no = whole.count(b"\n")
    for cut in range(last_line_start + 1, len(whole) - 1):
        path.write_bytes(whole[:cut])
        recording = read_recording(path)
        assert recording.events == small[:-1]
        assert recording.truncated
        assert recording.warning is not None and f"line {last_line_no}" in recording.warning


def test_a_cut_exactly_between_lines_is_a_complete_recording(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:3])
    whole = path.read_bytes()
    path.write_bytes(whole[: whole.rindex(b"\n", 0, -1) + 1])
    recording = read_recording(path)
    assert (recording.events, recording.truncated) == (EVENTS[:2], False)


def test_the_reader_reports_truncation_after_streaming(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:3])
    path.write_bytes(path.read_bytes()[:-5])
    with RecordingReader(path) as reader:
        assert list(reader) == EVENTS[:2]
        assert reader.truncated_at == 4
    assert list(iter_events(path)) == EVENTS[:2]


PAYLOAD_EVENTS = [  # in time order: the reader moves an event recorded out of order
    EVENTS[0],
    Sent(seq=2, mono=START + 1, wall=0.0, conn=1, side=Side.CLIENT, data=b"one\ntwo\n\nthree"),
    Received(seq=3, mono=START + 2, wall=0.0, conn=1, side=Side.CLIENT, data=b"\n" * 40 + b"{}"),
]


def test_a_crash_inside_a_raw_payload_keeps_every_complete_event(tmp_path: Path) -> None:
    path = record(tmp_path / "r.wbrec", PAYLOAD_EVENTS)
    whole = path.read_bytes()
    last_start = whole.rindex(b'{"t"')
    last_line_no = whole[:last_start].count(b"\n") + 1
    for cut in range(last_start + 1, len(whole) - 1):
        path.write_bytes(whole[:cut])
        recording = read_recording(path)
        assert (recording.events, recording.truncated) == (PAYLOAD_EVENTS[:-1], True)
        assert f"line {last_line_no}" in (recording.warning or "")


def test_a_payload_missing_only_its_closing_newline_is_complete(tmp_path: Path) -> None:
    path = record(tmp_path / "r.wbrec", PAYLOAD_EVENTS)
    path.write_bytes(path.read_bytes()[:-1])
    assert read_recording(path).events == PAYLOAD_EVENTS


def test_line_numbers_count_the_lines_inside_payloads(tmp_path: Path) -> None:
    path = record(tmp_path / "r.wbrec", [*PAYLOAD_EVENTS, EVENTS[1]])
    lines = lines_of(path)
    assert lines[-1].startswith(b'{"t"')
    lines[-1] = b"this is not json\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert caught.value.line_no == len(lines)  # what an editor shows for that line


def test_a_raw_count_too_small_is_damage_not_truncation(tmp_path: Path) -> None:
    path = record(tmp_path / "r.wbrec", PAYLOAD_EVENTS)
    path.write_bytes(path.read_bytes().replace(b'"raw": 14}', b'"raw": 13}'))
    with pytest.raises(RecordingError, match="line 3: the 13 raw bytes .* not end with a newline"):
        read_recording(path)


def test_a_raw_count_beyond_the_file_on_the_last_event_is_a_truncation(
    tmp_path: Path,
) -> None:
    path = record(tmp_path / "r.wbrec", PAYLOAD_EVENTS)
    path.write_bytes(path.read_bytes().replace(b'"raw": 42}', b'"raw": 999999999999}'))
    recording = read_recording(path)
    assert (recording.events, recording.truncated) == (PAYLOAD_EVENTS[:2], True)


def test_a_raw_count_beyond_the_file_in_the_middle_is_damage(tmp_path: Path) -> None:
    """Later events after the line show the count was changed, not cut short by a crash."""
    path = record(tmp_path / "r.wbrec", PAYLOAD_EVENTS)
    path.write_bytes(path.read_bytes().replace(b'"raw": 14}', b'"raw": 999999999999}'))
    with pytest.raises(RecordingError, match="line 3: the byte count says 999999999999 .*"):
        read_recording(path)


def test_recordings_of_format_1_still_read(tmp_path: Path) -> None:
    path = export_jsonl(record(tmp_path / "r.wbrec", EVENTS), tmp_path / "r.jsonl")
    lines = lines_of(path)
    lines[0] = lines[0].replace(b'"version": "2.1"', b'"version": "1.1"')
    path.write_bytes(b"".join(lines))
    recording = read_recording(path)
    assert (recording.header.version, recording.events) == ((1, 1), EVENTS)


def test_blank_lines_are_harmless(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:2])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\n\n"))
    assert read_recording(path).events == EVENTS[:2]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_garbage_in_the_middle_names_its_line(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:4])
    lines = lines_of(path)
    lines[2] = b"this is not json\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert caught.value.line_no == 3
    assert str(caught.value).startswith(f"{path} line 3: not JSON")


def test_a_complete_last_line_of_garbage_is_an_error_not_a_truncation(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:2])
    path.write_bytes(path.read_bytes() + b'{"t": 1}')
    with pytest.raises(RecordingError, match="line 4: missing field 'kind'"):
        read_recording(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", ": empty file"),
        (b"GIF89a\x00\x01garbage\n", " line 1: not a workbench recording (no header)"),
        (b"[1, 2, 3]\n", " line 1: not a workbench recording (no header)"),
        (b'{"t": 0.5, "kind": "eof"}\n', " line 1: not a workbench recording (no header)"),
        (
            b'{"format": "workbench-recording", "version": "3.0"}\n',
            " line 1: recording format version 3.0 is newer than this workbench understands"
            " (1.x, 2.x)",
        ),
    ],
)
def test_files_that_are_not_readable_recordings(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert str(caught.value) == f"{path}{message}"


def test_a_newer_minor_version_with_extra_fields_is_read(tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl", EVENTS[:5])
    lines = [json.loads(line) for line in lines_of(path)]
    lines[0]["version"] = "1.7"
    for line in lines[1:]:
        line["latency_ms"] = 3
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    recording = read_recording(path)
    assert (recording.header.version, recording.events) == ((1, 7), EVENTS[:5])


@pytest.mark.parametrize("make", [lambda p: p / "missing.jsonl", lambda p: p])
def test_unreadable_paths_say_why(tmp_path: Path, make: Any) -> None:
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(make(tmp_path))


@pytest.fixture(scope="module")
def real_recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    events = [*EVENTS[:8], EVENTS[9]]  # both kinds of payload; not the 1 MiB one
    return record(tmp_path_factory.mktemp("real") / "r.wbrec", events).read_bytes()


def read_anything(path: Path, content: bytes) -> None:
    """Readers must answer any content with a recording or a RecordingError, nothing else."""
    path.write_bytes(content)
    try:
        read_recording(path)
    except RecordingError:
        pass


hostile = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@hostile
@given(st.binary(max_size=2000))
def test_any_bytes(tmp_path: Path, content: bytes) -> None:
    read_anything(tmp_path / "fuzz.jsonl", content)


@hostile
@given(st.binary(max_size=500))
def test_any_bytes_after_a_valid_header(
    tmp_path: Path, real_recording: bytes, content: bytes
) -> None:
    header = real_recording.split(b"\n")[0] + b"\n"
    read_anything(tmp_path / "fuzz.jsonl", header + content)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
event_keys = st.sampled_from(
    ["t", "kind", "seq", "conn", "side", "local", "remote", "wall", "data_b64", "raw", "by"]
)


@hostile
@given(st.dictionaries(event_keys, json_values | st.sampled_from(sorted(EVENT_TYPES))))
def test_any_json_object_as_an_event(
    tmp_path: Path, real_recording: bytes, obj: dict[str, Any]
) -> None:
    read_anything(tmp_path / "fuzz.jsonl", real_recording + json.dumps(obj).encode() + b"\n")


@hostile
@given(st.data())
def test_any_corruption_of_a_real_recording(
    tmp_path: Path, real_recording: bytes, data: st.DataObject
) -> None:
    content = bytearray(real_recording)
    for _ in range(data.draw(st.integers(1, 5))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    read_anything(tmp_path / "fuzz.jsonl", bytes(content))


def full_disk(fd: int, data: Any) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_stops_recording_but_keeps_what_was_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.jsonl"
    rec = RecordingWriter.open(path, started_mono=START)
    rec.write(EVENTS[0])
    rec.flush()
    rec.write(EVENTS[1])
    with monkeypatch.context() as patch, pytest.raises(RecordingWriteError) as caught:
        patch.setattr(os, "writev", full_disk)
        rec.flush()
    assert caught.value.errno == errno.ENOSPC
    assert "No space left on device" in str(caught.value)
    assert "network session is unaffected" in str(caught.value)
    assert rec.closed
    rec.close()
    assert read_recording(path).events == EVENTS[:1]


def test_a_disk_failing_mid_write_leaves_a_readable_truncated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.jsonl"
    real_write = os.write
    calls: list[int] = []

    def fail_after_a_partial_write(fd: int, buffers: Any) -> int:
        calls.append(fd)
        if len(calls) == 1:
            data = b"".join(buffers)
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with RecordingWriter.open(path, started_mono=START) as rec:
        rec.write(EVENTS[0])
        rec.flush()
        rec.write(EVENTS[4])
        with monkeypatch.context() as patch, pytest.raises(RecordingWriteError):
            patch.setattr(os, "writev", fail_after_a_partial_write)
            rec.flush()
    recording = read_recording(path)
    assert (recording.events, recording.truncated) == (EVENTS[:1], True)


def test_a_disk_failing_on_the_header_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.jsonl"
    monkeypatch.setattr(os, "writev", full_disk)
    with pytest.raises(RecordingWriteError, match="cannot create recording") as caught:
        RecordingWriter.open(path)
    assert caught.value.errno == errno.ENOSPC
    assert not path.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_an_unwritable_folder_is_a_write_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(RecordingWriteError) as caught:
            RecordingWriter.open(tmp_path / "r.jsonl")
    finally:
        tmp_path.chmod(0o700)
    assert caught.value.errno == errno.EACCES
