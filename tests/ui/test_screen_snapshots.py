"""The look of every dialog and screen over the live one, fed fixed events so each repeats.

Events reach the app through ``FakeBridge`` (``workbench.testing``), exactly as the engine's
would; recordings are small files written from a ``Story`` in a temporary folder that the test
makes the working directory, so the file names shown are relative and the same every run. Log
times are wall clock: the zone is pinned to UTC and every time comes from the story. Cursors
are told not to blink, so a slow run cannot catch one off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.ui.helpers import wait_until
from workbench.codec import LineEnding, Mode
from workbench.events import Closer
from workbench.recording.compare import Comparison
from workbench.recording.reader import read_recording
from workbench.recording.replay import ConnectionResult, ReplayReport, Verdict
from workbench.recording.scripts import client_scripts
from workbench.saved_messages import MessageStore, SavedMessage
from workbench.testing import FakeBridge, Story
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.filter import FilterScreen
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.open_recording import OpenRecordingScreen
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.screens.replay import ReplayScreen
from workbench.ui.screens.saved_messages import MessagesScreen
from workbench.ui.screens.watch import WatchScreen

SIZE = (100, 30)
T0 = 1_764_000_000.0
RECORDINGS = Path("recordings")
"""Relative to the test's own working directory (a temporary folder)."""


@pytest.fixture(autouse=True)
def fixed_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log times are local time: pin the zone. Work in a temp folder so paths shown are short."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    RECORDINGS.mkdir()
    yield
    monkeypatch.undo()
    time.tzset()


def conversation() -> Story:
    """A server, a peer that asks and is answered with hostile bytes, a client reset by its peer.

    No ``Error``: the app would show it as a notice, which goes away on a timer of its own.
    """
    story = Story(start=1000.0, step=0.25, wall=T0)
    story.listening(1)
    story.accepted(2, listener=1)
    story.connecting(3)
    story.connected(3)
    story.received(2, b"GET / HTTP/1.0\r\nHost: example\r\n\r\n")
    story.sent(2, b"HTTP/1.0 200 OK\r\n\r\nhello \x1b[31m[bold]not markup[/]\x00\xff\n")
    story.peer_eof(2)
    story.closed(2, Closer.LOCAL)
    story.closed(3, Closer.PEER_RESET)
    story.received(4, b"the last one\n" * 3)  # what the payload screen opens on
    return story


def client_recording() -> Story:
    """What a client said to a server and heard back, as a recording holds it."""
    story = Story(start=2000.0, step=0.5, wall=T0)
    story.connecting(1)
    story.connected(1)
    story.sent(1, b"HELO workbench\r\n")
    story.received(1, b"250 hello\r\n")
    story.sent(1, b"QUIT\r\n")
    story.received(1, b"221 bye\r\n")
    story.closed(1, Closer.PEER)
    return story


def make_app(*, watch: Path | None = None, messages_file: Path | None = None) -> WorkbenchApp:
    """The app on a fake bridge, its clock stopped, its recordings in ./recordings."""
    return WorkbenchApp(
        clock=lambda: 112.0,
        bridge=FakeBridge,
        recordings_dir=RECORDINGS,
        watch=watch,
        messages_file=messages_file,
    )


def fake_bridge(app: WorkbenchApp) -> FakeBridge:
    bridge = app.bridge
    assert isinstance(bridge, FakeBridge)
    return bridge


async def steady(pilot: Pilot[Any]) -> None:
    """No blinking cursors anywhere, on the dialog or on the screen under it."""
    await pilot.pause()
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
    await pilot.pause()


async def on_screen(pilot: Pilot[Any], kind: type[object]) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), kind.__name__)


def test_payload_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Enter on a log row: its payload escaped beside the hex dump, and the row's details."""
    app = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await fake_bridge(app).show(conversation().events)
        await pilot.press("ctrl+l", "enter")
        await on_screen(pilot, PayloadScreen)
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_filter_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """f on the log: the connections and kinds seen so far are offered, a bad kind explained."""
    app = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await fake_bridge(app).show(conversation().events)
        await pilot.press("ctrl+l", "f")
        await on_screen(pilot, FilterScreen)
        await pilot.press(*"2 4", "tab", *"recv nonsense", "enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """F1: the keys, built from the bindings, and what the events mean."""
    app = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("f1")
        await on_screen(pilot, HelpScreen)
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_saved_messages_screen(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+S: each saved message's name, mode and the bytes it sends, escaped."""
    store = MessageStore(tmp_path / "messages.json")
    store.load()
    store.add(SavedMessage("greeting", "HELO workbench", Mode.TEXT, LineEnding.CRLF))
    store.add(SavedMessage("probe", r"\x1b[31m\0", Mode.ESCAPES, LineEnding.NONE))
    store.add(SavedMessage("magic", "de ad be ef", Mode.HEX))
    app = make_app(messages_file=tmp_path / "messages.json")

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+s")
        await on_screen(pilot, MessagesScreen)
        await pilot.press("down")
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_recording_picker(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+O: the recordings folder newest first, the newest highlighted; a bad path explained."""
    for age, name in enumerate(["newest.wbrec", "older.wbrec", "oldest.jsonl"]):
        path = client_recording().write(RECORDINGS / name)
        os.utime(path, (T0 - age * 3600, T0 - age * 3600))
    (RECORDINGS / "notes.txt").write_text("not a recording\n")
    Path("broken.wbrec").write_bytes(b'{"not": "a header"}\n')
    app = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+o")
        await on_screen(pilot, OpenRecordingScreen)
        await pilot.press(*"broken.wbrec", "enter")
        await wait_until(pilot, lambda: "broken" in str(error_line(app)), "the refusal")
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def error_line(app: WorkbenchApp) -> object:
    return app.screen.query_one("#open-error").render()


def test_watch_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """--open on a recording, jumped to its end: every event in the log, the player finished."""
    path = client_recording().write(Path("session.wbrec"))
    app = make_app(watch=path)

    async def run(pilot: Pilot[Any]) -> None:
        await on_screen(pilot, WatchScreen)
        await pilot.press("ctrl+end")
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await wait_until(pilot, lambda: screen.playback.done, "the end of the recording")
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_replay_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+T, a recording, a target: the report the engine hands back, diff and all."""
    path = client_recording().write(RECORDINGS / "session.wbrec")
    (script,) = client_scripts(read_recording(path).events)
    answer = Comparison(script.expected, None)
    answer.add(b"250 hello\r\n421 go away\r\n")
    report = ReplayReport(
        (ConnectionResult(script, Verdict.DIFFERS, 24, script.sent_size, answer.diff() or ""),)
    )
    app = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+t")
        await on_screen(pilot, OpenRecordingScreen)
        await pilot.press("enter")
        await on_screen(pilot, ReplayScreen)
        await pilot.press(*"127.0.0.1:7000", "enter")
        bridge = fake_bridge(app)
        asked = lambda: "replay" in [intent.name for intent in bridge.intents]  # noqa: E731
        await wait_until(pilot, asked, "the replay to be asked for")
        bridge.finish_replay(report)
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.report is report, "the report")
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)
