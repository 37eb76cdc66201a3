"""Session recordings: every engine event, written as it happens, readable long after.

See ``format`` for the file layout and its versioning rules.
"""

from workbench.recording.format import FORMAT_VERSION, MIGRATIONS, Header, RecordingError
from workbench.recording.reader import Recording, RecordingReader, iter_events, read_recording
from workbench.recording.writer import (
    RecordingWriteError,
    RecordingWriter,
    default_recording_path,
)

__all__ = [
    "FORMAT_VERSION",
    "MIGRATIONS",
    "Header",
    "Recording",
    "RecordingError",
    "RecordingReader",
    "RecordingWriteError",
    "RecordingWriter",
    "default_recording_path",
    "iter_events",
    "read_recording",
]
