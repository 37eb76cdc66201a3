"""Messages a recorder running in trio sends to the screen (progress, the end, failure)."""

from __future__ import annotations

from textual.message import Message

from workbench.recording.recorder import Recorder, RecordingStatus


class RecordingProgress(Message):
    """What is on disk so far; ``final`` once the recorder has stopped and closed its file."""

    def __init__(self, recorder: Recorder, status: RecordingStatus) -> None:
        super().__init__()
        self.recorder = recorder
        self.status = status
        self.final = recorder.finished  # read now, in trio: later it is always true


class RecordingFailed(Message):
    """The disk failed; recording stopped, the network session goes on."""

    def __init__(self, recorder: Recorder, reason: str) -> None:
        super().__init__()
        self.recorder = recorder
        self.reason = reason
