"""Promise: no recording file takes the UI down when opened or watched (issue 10, A4 and A5).

The picker (Ctrl+O) explains a file it refuses and stays open; a recording whose times ran
backwards, or that waits a billion seconds, plays in the watch screen like any other.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.hostile.recording_files import backwards, setting, spoiled
from tests.ui.helpers import wait_until
from workbench.recording.index import Indexing, index_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.open_recording import OpenRecordingScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.widgets.event_log import EventLog

pytestmark = pytest.mark.asyncio


def make_fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "fifo.wbrec"
    os.mkfifo(fifo)
    return fifo


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: spoiled(p / "nan.jsonl", setting("t", math.nan)), "line 7: field 't'"),
        (lambda p: spoiled(p / "bool.jsonl", setting("conn", True)), "line 7: field 'conn'"),
        (lambda p: Path("/dev/zero"), "cannot read a character device"),
        (make_fifo, "cannot read a named pipe (FIFO)"),
    ],
    ids=["nan time", "true for an id", "/dev/zero", "fifo without a writer"],
)
async def test_the_picker_explains_a_refused_file_and_the_app_lives_on(
    tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    app = WorkbenchApp(recordings_dir=tmp_path / "none")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenRecordingScreen), "picker")
        app.screen.query_one("#open-path", Input).value = str(path)  # typed, all at once
        await pilot.press("enter")
        error = app.screen.query_one("#open-error")
        await wait_until(pilot, lambda: message in str(error.render()), "the explanation")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, OpenRecordingScreen), "back")
        assert app.is_running


async def test_a_recording_whose_time_runs_backwards_plays_to_the_end(tmp_path: Path) -> None:
    recording = index_recording(spoiled(tmp_path / "back.jsonl", backwards))
    app = WorkbenchApp(watch=recording)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await wait_until(pilot, lambda: screen.playback.done, "playback to finish")
        log = screen.query_one(EventLog)
        assert log.store.total_events == len(recording.events) == 21
        assert any("time runs backwards" in str(n.message) for n in app._notifications)


async def test_a_billion_second_pause_waits_without_breaking_anything(tmp_path: Path) -> None:
    def far_future(index: int, event: dict[str, object]) -> None:
        if index == 20:
            event["t"] = 1e9  # the largest time the reader allows

    recording = index_recording(spoiled(tmp_path / "far.jsonl", far_future))
    app = WorkbenchApp(watch=recording)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await wait_until(pilot, lambda: screen.playback.position == 20, "all but the last")
        assert screen.playback.delay(time.monotonic()) == pytest.approx(1e9, rel=1e-3)
        await pilot.press("minus", "minus")  # slower: a 4e9 s timer is fine too
        await pilot.press("ctrl+end")
        log = screen.query_one(EventLog)
        await wait_until(pilot, lambda: log.store.total_events == 21, "the jump to the end")
        assert app.is_running


async def test_the_picker_reads_off_the_screen_and_escape_leaves_a_slow_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big recording (here: a disk that answers only when told) is indexed in a thread: the
    picker says so, keys still work, Escape leaves at once, and the late result is dropped."""
    sample = Path(__file__).parents[2] / "recordings" / "sample-echo.jsonl"
    release, reading = threading.Event(), threading.Event()

    class SlowIndexing(Indexing):
        def run(self) -> None:
            reading.set()
            assert release.wait(10), "the test never released the read"
            super().run()

    monkeypatch.setattr("workbench.ui.screens.open_recording.Indexing", SlowIndexing)
    app = WorkbenchApp(recordings_dir=tmp_path / "none")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenRecordingScreen), "picker")
        field = app.screen.query_one("#open-path", Input)
        field.value = str(sample)
        await pilot.press("enter")
        await wait_until(pilot, reading.is_set, "the read to start")
        assert "indexing" in str(app.screen.query_one("#open-error").render())
        await pilot.press("end", "x")  # the screen still answers while the thread reads
        assert field.value == f"{sample}x"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, OpenRecordingScreen), "back")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, WatchScreen)
