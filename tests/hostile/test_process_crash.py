"""Promise: a crash is never silent and never a success.

An engine crash (or any other unexpected error) exits with status 70 (EX_SOFTWARE; not 0, and
not 1 or 2, which mean "differs" and "usage" to scripts), prints one line on stderr that names
the file holding the whole traceback, and finishes the recording in progress with every event
so far and the closes the crash caused.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import trio

from tests.hostile.process_harness import (
    DEADLINE,
    PtyProcess,
    assert_terminal_restored,
    child_env,
    connect,
    listening_port,
    read_to_eof,
    text_after_restore,
    wait_for_event,
    workbench_argv,
)
from tests.ui.helpers import wait_until
from workbench import cli, crash
from workbench.cli import show
from workbench.crash import EXIT_CRASH
from workbench.events import Closed, Event, Received, Stopped
from workbench.recording.reader import read_recording
from workbench.ui.app import WorkbenchApp

LINE = re.compile(r"workbench: (?P<what>.+) \((?P<summary>.*)\); traceback saved to (?P<path>\S+)$")


def test_an_engine_crash_exits_70_with_one_line_naming_the_traceback_file(tmp_path: Path) -> None:
    recording = tmp_path / "session.wbrec"
    argv = workbench_argv(
        "--listen", "127.0.0.1:0", "--record", str(recording), fault="crash-engine"
    )
    terminal = PtyProcess(argv, child_env(tmp_path))
    try:
        port = listening_port(recording)
        with connect(port) as first:
            first.sendall(b"hello\n")
            wait_for_event(
                recording, lambda e: isinstance(e, Received) and e.data == b"hello\n", "hello"
            )
            with connect(port) as second:  # the engine crashes on this one
                assert read_to_eof(second) == b""
            assert read_to_eof(first) == b""  # the crash closed every socket
        assert terminal.wait() == EXIT_CRASH
        assert_terminal_restored(terminal)
        lines = text_after_restore(terminal)
    finally:
        terminal.close()

    assert len(lines) == 1, lines
    said = LINE.match(lines[0])
    assert said, lines[0]
    assert said["what"] == "the network engine crashed"
    assert said["summary"] == r"RuntimeError: injected engine crash second line \x1b[31m"
    report = Path(said["path"])
    assert report.parent == tmp_path / "state" / "workbench" / "crashes"
    text = report.read_text()
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: injected engine crash\n" in text
    assert "second line \\x1b[31m" in text  # escaped: `cat` shows it, the terminal ignores it
    assert "\x1b" not in text
    assert "crash_on_second_peer" in text  # the frame that raised

    saved = read_recording(recording)
    assert saved.warning is None  # finished, not cut short
    assert [e.data for e in saved.events if isinstance(e, Received)] == [b"hello\n"]
    closed = {e.conn for e in saved.events if isinstance(e, Closed)}
    assert len(closed) == 2, "both peers' closes are recorded"
    assert [e.kind for e in saved.events if isinstance(e, Stopped)] == ["stop"]


def test_a_subcommand_crash_exits_70_with_one_line_naming_the_traceback_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def show_with_a_bug(argv: list[str]) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(show, "main", show_with_a_bug)
    assert cli.main(["show", "anything.wbrec"]) == EXIT_CRASH
    out, errors = capsys.readouterr()
    assert out == ""
    lines = errors.splitlines()
    assert len(lines) == 1, lines
    said = LINE.match(lines[0])
    assert said and said["what"] == "show crashed" and said["summary"] == "KeyError: 'a bug'"
    assert "show_with_a_bug" in Path(said["path"]).read_text()


def test_a_crash_report_that_cannot_be_saved_goes_to_stderr_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The traceback is never lost: no writable folder means it is printed instead."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(crash, "crash_dir", lambda: blocked / "crashes")
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(blocked))
    try:
        raise ValueError("lost?")
    except ValueError as exc:
        line = crash.report_crash("it crashed", exc)
    assert line.startswith("workbench: it crashed (ValueError: lost?); traceback above, not saved")
    assert "ValueError: lost?" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_after_an_engine_crash_a_slow_recorder_still_gets_every_close_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's consumers are not cut short by its crash: they drain, then the run ends."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen: list[Event] = []

    async def slow_consumer(channel: trio.MemoryReceiveChannel[Event]) -> None:
        async with channel:
            async for event in channel:
                seen.append(event)
                await trio.sleep(0.05)  # a slow disk: behind by the time the engine stops

    async def engine_bug() -> None:
        raise RuntimeError("injected")

    app = WorkbenchApp()
    async with app.run_test() as pilot:
        app.bridge.add_consumer(slow_consumer)
        await pilot.press("f5")
        await wait_until(pilot, lambda: bool(app.model.listeners), "listening")
        listener = next(iter(app.model.listeners.values()))
        assert listener.local is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.local.port)
        await wait_until(pilot, lambda: bool(app.model.live_peers(None)), "the peer")
        app.bridge._submit(engine_bug)  # a bug injected into the engine's run
        assert await asyncio.wait_for(reader.read(), DEADLINE) == b""
        writer.close()
        await wait_until(pilot, lambda: app.crash_line is not None, "the crash report")
    assert app.return_code == EXIT_CRASH
    kinds = [event.kind for event in seen]
    assert {"close", "stop"} <= set(kinds[kinds.index("accept") :]), kinds


@pytest.mark.asyncio
async def test_an_unexpected_ui_error_is_saved_to_a_file_and_exits_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not Textual's screenful of traceback with locals (which may quote a peer's bytes)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = WorkbenchApp()

    def help_with_a_bug() -> None:
        raise ValueError("a bug in a handler")

    monkeypatch.setattr(app, "action_help", help_with_a_bug)
    with pytest.raises(ValueError, match="a bug in a handler"):  # Pilot re-raises it for tests
        async with app.run_test() as pilot:
            await pilot.press("f1")
            await wait_until(pilot, lambda: app.crash_line is not None, "the crash report")
    assert app.return_code == EXIT_CRASH
    assert app.crash_line is not None
    said = LINE.match(app.crash_line)
    assert said and said["what"] == "the user interface crashed", app.crash_line
    assert "help_with_a_bug" in await asyncio.to_thread(Path(said["path"]).read_text)


def test_an_error_while_the_app_starts_is_one_line_and_status_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def starting_with_a_bug(self: WorkbenchApp, **_: object) -> None:
        raise OSError("a bug while starting")

    monkeypatch.setattr(WorkbenchApp, "__init__", starting_with_a_bug)
    assert cli.main([]) == EXIT_CRASH
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    said = LINE.match(lines[0])
    assert said and said["what"] == "workbench crashed", lines[0]
    assert "starting_with_a_bug" in Path(said["path"]).read_text()
