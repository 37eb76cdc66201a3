"""Recording from the UI: start and stop, progress and failure, watching and replaying.

A base class of the app, so the recorder's messages reach these handlers; the recorder
itself runs in the engine's trio run as a lossless consumer, and the bridge posts its progress
and failure back as messages.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.app import App

from workbench.recording.index import RecordingIndex
from workbench.recording.recorder import Recorder, RecordingStatus
from workbench.recording.replay import CancellableReplay
from workbench.recording.writer import (
    RecordingWriteError,
    RecordingWriter,
    default_recording_path,
)
from workbench.ui.bridge import EngineBridge, RecordingFailed, RecordingProgress
from workbench.ui.model import human_bytes
from workbench.ui.screens.open_recording import OpenRecordingScreen
from workbench.ui.screens.replay import ReplayScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.widgets.event_log import EventLog
from workbench.wording import counted


class _ReplayOfIndex(ReplayScreen):
    """The replay dialog over a picked recording, which it closes when it goes (Escape, or
    the app quitting); payloads are read from the file as the replay needs them."""

    def __init__(self, index: RecordingIndex) -> None:
        super().__init__(index.whole())
        self._index = index

    def on_unmount(self) -> None:
        self.cancel_replay()  # ReplayScreen's own handler runs too; this one must run first
        self._index.close()


class RecordingControl(App[None]):
    """The recording half of the workbench app (the app provides bridge and folder)."""

    bridge: EngineBridge
    recordings_dir: Path
    _recorder: Recorder | None = None  # the running recorder, if any

    def action_toggle_recording(self) -> None:
        if self._recorder is None:
            self._start_recording(None)
        else:
            self.bridge.stop_recording(self._recorder)
            self._recorder = None
            self._show_recording(None)

    def _start_recording(self, path: Path | None) -> None:
        try:
            writer = RecordingWriter.open(path or default_recording_path(self.recordings_dir))
        except RecordingWriteError as exc:
            self.notify(str(exc), title="cannot record", severity="error")
            return
        self._recorder = self.bridge.start_recording(writer)
        self._show_recording(self._recorder.status)

    def on_recording_progress(self, message: RecordingProgress) -> None:
        if message.recorder is self._recorder:
            self._show_recording(message.status)
        elif message.final:
            status = message.status
            self.notify(
                f"{status.path} · {counted(status.events, 'event')} · {human_bytes(status.bytes)}",
                title="recording saved",
            )

    def on_recording_failed(self, message: RecordingFailed) -> None:
        if message.recorder is self._recorder:
            self._recorder = None
            self._show_recording(None)
        self.notify(message.reason, title="recording stopped", severity="error", timeout=30)

    def _show_recording(self, status: RecordingStatus | None) -> None:
        """The log's title doubles as the recording indicator: file name and size."""
        if not self.is_running:
            return  # quitting: the recorder's last report arrives while widgets are removed
        log = self.query_one(EventLog)
        if status is None:
            log.border_title = ""
            return
        log.border_title = (
            f"● REC {status.path.name} · {human_bytes(status.bytes)} · "
            f"{counted(status.events, 'event')}"
        )

    def action_open_recording(self, path: Path | None = None) -> None:
        """Pick a recording to watch (``path``: that one, indexed at once, as ``--open``)."""
        self.push_screen(OpenRecordingScreen(self.recordings_dir, path), self._watch)

    def _watch(self, recording: RecordingIndex | None) -> None:
        if recording is not None:
            self.push_screen(WatchScreen(recording))  # which closes it when it goes

    def action_replay_recording(self) -> None:
        self.push_screen(OpenRecordingScreen(self.recordings_dir), self._replay_screen)

    def _replay_screen(self, recording: RecordingIndex | None) -> None:
        if recording is not None:
            self.push_screen(_ReplayOfIndex(recording))

    def on_replay_screen_run(self, request: ReplayScreen.Run) -> None:
        screen = request.screen
        run = CancellableReplay(
            screen.recording,
            request.target,
            speed=request.speed,
            ignore=request.ignore,
            budget=request.budget,
        )
        screen.started(partial(self.bridge.cancel_replay, run))
        self.bridge.replay(run, reply_to=screen)
