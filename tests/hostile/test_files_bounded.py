"""Promise: reading a recording is bounded in time and memory, whatever the file (issue 10, A5).

Only regular files are read: ``/dev/zero`` and a FIFO nobody writes to are refused at once. A
line is read at most 64 KiB (the header) or 1 MiB (an event) at a time; only an inline payload
may make a line longer, and it is measured before it is kept. ``show`` prints as it reads. A
byte count that swallows later events is damage at its line, never a quiet "cut short".
Every command runs as a real process, timed, its peak RSS measured.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import sparse
from tests.hostile.recording_files import (
    COMMANDS,
    READ_BEFORE_STARTING,
    RSS_LIMIT_MB,
    SAMPLE,
    TIME_LIMIT,
    Run,
    one_line_error,
    run_workbench,
)
from workbench.events import Address, Received, Side
from workbench.recording.format import RecordingError, encode_event, encode_header, new_header
from workbench.recording.reader import LINE_LIMIT, read_recording
from workbench.recording.writer import RecordingWriter

BIG = 600_000_000
"""The size of the issue's file with no newline; sparse, so it costs no disk."""

HEADER = SAMPLE.read_bytes().split(b"\n", 1)[0] + b"\n"
INLINE_START = (
    b'{"t": 0.5, "kind": "recv", "seq": 9, "conn": 3, "side": "peer", "local": "127.0.0.1:1",'
    b' "remote": "127.0.0.1:2", "wall": 1700000000.0, "data_b64": "'
)


def bounded(run: Run) -> Run:
    assert run.seconds < TIME_LIMIT, run
    assert run.peak_rss_mb < RSS_LIMIT_MB, run
    return run


def make_fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "nobody-writes.wbrec"
    os.mkfifo(fifo)
    return fifo


HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "/dev/zero": (lambda p: Path("/dev/zero"), ": cannot read a character device"),
    "fifo": (make_fifo, ": cannot read a named pipe (FIFO)"),
    "600 MB, no newline": (
        lambda p: sparse(p / "flat.wbrec", BIG),
        " line 1: not a workbench recording (line 1 is over 64 KiB long",
    ),
    "header, then 600 MB with no newline": (
        lambda p: sparse(p / "long.wbrec", BIG, HEADER),
        " line 2: the line is over 1 MiB long, and only an event with an inline payload",
    ),
}


CASES = [
    *((hostile, command) for hostile in list(HOSTILE)[:3] for command in COMMANDS),
    *((list(HOSTILE)[3], command) for command in ("show", "replay")),
]


@pytest.mark.parametrize(("hostile", "command"), CASES)
def test_an_endless_or_newline_free_file_is_refused_in_a_second(
    tmp_path: Path, hostile: str, command: str
) -> None:
    make, message = HOSTILE[hostile]
    path = make(tmp_path)
    run = bounded(run_workbench([*COMMANDS[command], str(path)], tmp_path))
    assert run.status == 2, run
    assert f"{path}{message}" in one_line_error(run)


def test_an_inline_payload_cut_short_after_300_mb_is_measured_not_kept(tmp_path: Path) -> None:
    """A crash inside a huge format-1 line: the events before it show, with the warning."""
    path = sparse(tmp_path / "cut.jsonl", BIG // 2, HEADER + INLINE_START)
    run = bounded(run_workbench(["show", str(path)], tmp_path))
    assert (run.status, run.out.count("\n")) == (0, 1), run
    assert "the last event (line 2) was cut short" in run.err and "Traceback" not in run.err


def test_a_big_inline_payload_still_reads_back_exactly(tmp_path: Path) -> None:
    """Lines over the limit are fine when an inline payload makes them long (1.x, --jsonl)."""
    data = os.urandom(3 * LINE_LIMIT)
    start = 1000.0
    event = Received(
        seq=1, mono=start + 1, wall=1.7e9, conn=2, side=Side.PEER, data=data,
        local=Address("127.0.0.1", 1), remote=Address("::1", 2),
    )  # fmt: skip
    path = tmp_path / "inline.jsonl"
    lines = [encode_header(new_header(1.7e9, start)), encode_event(event, start), "{}"]
    path.write_text("\n".join(lines[:2]) + "\n")
    assert read_recording(path).events == [event]
    path.write_text("\n".join(lines[:2]) + "\n" + lines[1][: LINE_LIMIT * 2])  # cut short
    assert read_recording(path).truncated


@pytest.mark.parametrize(
    ("spoil", "message"),
    [(b"!", "field 'data_b64' should be base64 text"), (b'"', "the line is damaged after")],
    ids=["not base64", "a quote ends it early"],
)
def test_a_long_line_that_breaks_its_inline_payload_is_damage(
    tmp_path: Path, spoil: bytes, message: str
) -> None:
    payload = base64.b64encode(os.urandom(LINE_LIMIT))
    line = INLINE_START + payload[:1000] + spoil + payload[1000:] + b'"}\n'
    path = tmp_path / "broken.jsonl"
    path.write_bytes(HEADER + line + line)
    with pytest.raises(RecordingError, match=f"line 2: {message}"):
        read_recording(path)


def damaged_count(tmp_path: Path, count: bytes) -> Path:
    """A format-2 recording whose first payload's byte count (7) was changed."""
    recording = read_recording(SAMPLE)
    path = tmp_path / "damaged.wbrec"
    with RecordingWriter.open(path, started_mono=recording.header.started_mono) as writer:
        for event in recording.events:
            writer.write(event)
    whole = path.read_bytes()
    path.write_bytes(whole.replace(b'"raw": 7}', b'"raw": ' + count + b"}", 1))
    return path


DAMAGED_COUNTS = {
    "beyond the end": (b"999999", "the byte count says 999999 raw bytes follow this line, but"),
    "into the next lines": (b"40", "the 40 raw bytes after this line do not end with a newline"),
    "short": (b"5", "the 5 raw bytes after this line do not end with a newline"),
    "short of its LF": (b"6", "the 6 raw bytes after this line are followed by a blank line"),
}


@pytest.mark.parametrize(
    ("damage", "command"),
    [
        *((damage, "show") for damage in DAMAGED_COUNTS),
        *(("beyond the end", c) for c in READ_BEFORE_STARTING),
    ],
)
def test_a_damaged_byte_count_mid_file_is_damage_at_its_line(
    tmp_path: Path, damage: str, command: str
) -> None:
    count, message = DAMAGED_COUNTS[damage]
    path = damaged_count(tmp_path, count)
    run = bounded(run_workbench([*COMMANDS[command], str(path)], tmp_path))
    assert run.status == 2, run
    assert f"{path} line 6: {message}" in one_line_error(run)


EVENTS_TO_STREAM = 100_000


def many_events(path: Path, count: int) -> Path:
    """A format-2 recording of ``count`` small sends, written fast (not through the writer)."""
    header = encode_header(new_header(1.7e9, 1000.0)).encode() + b"\n"
    line = (
        '{"t": %.4f, "kind": "send", "seq": %d, "conn": 2, "side": "client", '
        '"local": "127.0.0.1:40000", "remote": "127.0.0.1:5000", "wall": 1700000000.0, '
        '"pending": 0, "raw": 17}\nhello, event %04d\n'
    )
    body = "".join(line % (i / 1e4, i, i % 10_000) for i in range(count))
    path.write_bytes(header + body.encode())
    return path


def test_show_streams_in_constant_memory(tmp_path: Path) -> None:
    """Loading 100k events whole took 85 MB; streamed, show stays near its start size (28 MB)."""
    path = many_events(tmp_path / "many.wbrec", EVENTS_TO_STREAM)
    run = run_workbench(["show", str(path)], tmp_path, limit=120)
    assert (run.status, run.err) == (0, ""), run
    assert run.out.count("\n") == 1 + EVENTS_TO_STREAM
    assert run.peak_rss_mb < 64, run


def test_a_jsonl_export_of_a_damaged_file_says_so(tmp_path: Path) -> None:
    path = damaged_count(tmp_path, b"999999")
    run = bounded(run_workbench(["show", "--jsonl", str(path)], tmp_path))
    assert run.status == 2 and "line 6: the byte count says 999999" in one_line_error(run)
    assert json.loads(run.out.splitlines()[0])["format"] == "workbench-recording"


def test_a_path_no_file_can_have_is_refused_not_a_crash() -> None:
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording("rec\0ording.wbrec")
