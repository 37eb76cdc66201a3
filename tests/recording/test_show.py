"""``workbench show``: a recording as a log, with hex dumps, damage and hostile contents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli.show import main as main_show
from workbench.events import Address, Connected, Error, Received, Side
from workbench.recording.reader import read_recording
from workbench.recording.transcript import transcript_lines
from workbench.recording.writer import RecordingWriter
from workbench.safe_text import hex_dump

ROOT = Path(__file__).parents[2]
ECHO = ROOT / "recordings" / "sample-echo.jsonl"
HTTP = ROOT / "recordings" / "sample-http.jsonl"
START = 1000.0


def test_one_line_per_event_like_a_log() -> None:
    recording = read_recording(ECHO)
    lines = list(transcript_lines(recording.header, recording.events, hex=False))
    assert len(lines) == 1 + len(recording.events)
    header = r"# recording started \S+ on .+ \(workbench \S+, format \d+\.\d+\)"
    assert re.fullmatch(header, lines[0])
    assert re.fullmatch(r"\+0\.\d{3}s  #2   client    → send  7 B  hello\\r\\n", lines[5])
    assert lines[-6].endswith("#2   client    ← recv  4 B  \\0\\x01\\xfe\\xff")
    assert sum("  close  FIN by us  127.0.0.1:" in line for line in lines) == 2
    assert any("  eof  FIN by peer  127.0.0.1:" in line for line in lines)
    assert lines[-1].endswith("stop  no longer listening on 127.0.0.1:33197")


def test_show_prints_the_transcript(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show([str(HTTP)]) == 0
    out, err = capsys.readouterr()
    assert "→ send  71 B  GET / HTTP/1.0\\r\\nHost: 127.0.0.1:33825\\r\\n" in out
    assert "peer      shutdown  FIN by us  127.0.0.1:33825 ⇄ 127.0.0.1:38370" in out
    assert "close  FIN by peer  127.0.0.1:" in out and err == ""


def test_hex_puts_dumps_under_the_event_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show([str(ECHO), "--hex"]) == 0
    lines = capsys.readouterr().out.splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith("client    → send  4 B"))
    assert lines[index + 1] == "    " + hex_dump(b"\x00\x01\xfe\xff")[0]
    assert "hello" not in lines[index - 4], "payloads appear only as dumps"


def test_a_truncated_file_shows_what_is_readable_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    data = ECHO.read_bytes()
    cut.write_bytes(data[: data.rindex(b"\n", 0, -1) + 20])  # the last line, cut short
    assert main_show([str(cut)]) == 0
    out, err = capsys.readouterr()
    events = len(read_recording(ECHO).events)
    assert len(out.splitlines()) == events  # the header line plus all but the last event
    assert err == (
        f"workbench show: warning: {cut}: the last event (line {events + 1}) was cut short"
        " — the recording ends at the last complete event\n"
    )


@pytest.mark.parametrize(
    ("content", "line", "printed"),
    [(b"just some text\n", 1, 0), (None, 3, 2)],
    ids=["no header", "bad line"],
)
def test_garbage_is_an_error_naming_the_line(
    content: bytes | None,
    line: int,
    printed: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """show streams: what came before the damage is printed, then the error, exit 2."""
    garbage = tmp_path / "garbage.jsonl"
    if content is None:
        lines = ECHO.read_bytes().splitlines(keepends=True)
        content = b"".join([*lines[:2], b"{not json\n", *lines[3:]])
    garbage.write_bytes(content)
    assert main_show([str(garbage)]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == printed  # the header's line, then line 2's event
    assert err.startswith(f"workbench show: {garbage} line {line}: ") and err.count("\n") == 1


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show([str(tmp_path / "nope.jsonl")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_nothing_in_a_recording_reaches_the_terminal_raw(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    evil = Address("evil\x1b]0;owned\x07", 5000)
    with RecordingWriter.open(path, started_wall=0.0, started_mono=START) as writer:
        base = {"mono": START, "wall": 0.0, "conn": 1, "side": Side.CLIENT, "remote": evil}
        writer.write(Connected(seq=1, **base))
        writer.write(Received(seq=2, data=b"\x1b[2J\xe2\x80\xae", **base))
        message, hint = "bad \x1b[31mred", "\x9b hint"
        writer.write(Error(seq=3, operation="send", errno=None, message=message, hint=hint, **base))
    recording = read_recording(path)
    text = "\n".join(transcript_lines(recording.header, recording.events, hex=False))
    assert not any(char in text for char in "\x1b\x07\x9b\u202e")
    assert "bad \\x1b[31mred — \\xc2\\x9b hint" in text
    assert "connect  evil\\x1b]0;owned\\x07:5000" in text


def test_python_m_workbench_show() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "show", str(ECHO)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 0 and done.stderr == b""
    assert "→ send  14 B  how are you?\\r\\n" in done.stdout.decode()


def test_an_unknown_subcommand_is_an_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "frobnicate"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == (
        b"workbench: unknown command 'frobnicate' (commands: replay, mock, show) "
        b"(see workbench --help)\n"
    )
