"""Recording from the UI: start and stop, progress and failure, watching and replaying.

An object the app owns and hands the recorder's messages to (``progress``, ``failed``, ``run``);
the recorder itself runs in the engine's trio run as a lossless consumer, and the bridge posts
its progress and failure back to the app as messages.
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


class RecordingControl:
    """Recording, watching and replaying for the app: its screens, notices and log title."""

    def __init__(self, app: App[None], bridge: EngineBridge, folder: Path) -> None:
        self.app, self.bridge, self.folder = app, bridge, folder
        self.recorder: Recorder | None = None
        """The running recorder, if any."""

    def toggle(self) -> None:
        if self.recorder is None:
            self.start(None)
        else:
            self.bridge.stop_recording(self.recorder)
            self.recorder = None
            self._show(None)

    def start(self, path: Path | None) -> None:
        """Record to ``path``, or to a new file in the recordings folder."""
        try:
            writer = RecordingWriter.open(path or default_recording_path(self.folder))
        except RecordingWriteError as exc:
            self.app.notify(str(exc), title="cannot record", severity="error")
            return
        self.recorder = self.bridge.start_recording(writer)
        self._show(self.recorder.status)

    def progress(self, message: RecordingProgress) -> None:
        if message.recorder is self.recorder:
            self._show(message.status)
        elif message.final:
            status = message.status
            self.app.notify(
                f"{status.path} · {counted(status.events, 'event')} · {human_bytes(status.bytes)}",
                title="recording saved",
            )

    def failed(self, message: RecordingFailed) -> None:
        if message.recorder is self.recorder:
            self.recorder = None
            self._show(None)
        self.app.notify(message.reason, title="recording stopped", severity="error", timeout=30)

    def _show(self, status: RecordingStatus | None) -> None:
        """The log's title doubles as the recording indicator: file name and size."""
        if not self.app.is_running:
            return  # quitting: the recorder's last report arrives while widgets are removed
        log = self.app.query_one(EventLog)
        if status is None:
            log.border_title = ""
            return
        log.border_title = (
            f"● REC {status.path.name} · {human_bytes(status.bytes)} · "
            f"{counted(status.events, 'event')}"
        )

    def open(self, path: Path | None = None) -> None:
        """Pick a recording to watch (``path``: that one, indexed at once, as ``--open``)."""
        self.app.push_screen(OpenRecordingScreen(self.folder, path), self._watch)

    def _watch(self, recording: RecordingIndex | None) -> None:
        if recording is not None:
            self.app.push_screen(WatchScreen(recording))  # which closes it when it goes

    def pick_replay(self) -> None:
        """Pick a recording to replay to a server."""
        self.app.push_screen(OpenRecordingScreen(self.folder), self._replay_screen)

    def _replay_screen(self, recording: RecordingIndex | None) -> None:
        if recording is not None:
            self.app.push_screen(_ReplayOfIndex(recording))

    def run_replay(self, request: ReplayScreen.Run) -> None:
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
