"""Choosing a recording to watch or replay: the recordings folder, newest first, or any path.

The chosen file is read in a thread: a big recording takes seconds to read, and the screen must
go on answering meanwhile (Escape leaves at once; the reading's result is then dropped).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from workbench.recording.format import RecordingError
from workbench.recording.reader import Recording, read_recording
from workbench.recording.writer import SUFFIX


def recordings_in(folder: Path) -> list[Path]:
    """Newest first: the one just recorded is the one people want to watch.

    ``.jsonl`` too: recordings from before format 2, and those exported for jq.
    """
    if not folder.is_dir():
        return []
    found = [*folder.glob(f"*{SUFFIX}"), *folder.glob("*.jsonl")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class OpenRecordingScreen(ModalScreen[Recording | None]):
    """Type a path, or pick from the list; a malformed file is explained, not opened.

    The path field has the focus from the start, so what is typed is never lost; Up and Down
    move through the list from there, and Enter on an empty path opens the highlighted one
    (the newest at first, so Enter alone opens it).
    """

    DEFAULT_CSS = """
    OpenRecordingScreen { align: center middle; }
    OpenRecordingScreen > Vertical {
        width: 80%; max-width: 100; height: 80%; border: round $accent; background: $panel;
        padding: 0 1;
    }
    OpenRecordingScreen OptionList { height: 1fr; }
    OpenRecordingScreen #open-error { color: $text-error; height: auto; }
    OpenRecordingScreen #open-error.-reading { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("down", "move(1)", "Next", show=False),
    ]
    AUTO_FOCUS = "#open-path"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._folder = folder
        self._reading: Worker[Recording] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Recordings in {self._folder} (Enter opens) — or type a path:")
            yield Input(placeholder=f"path/to/recording{SUFFIX}", id="open-path")
            options = [
                Option(Text(path.name), id=str(path)) for path in recordings_in(self._folder)
            ]
            yield OptionList(*options, id="open-list")
            yield Static(id="open-error")

    def on_mount(self) -> None:
        """The newest recording is highlighted, so Enter alone opens it."""
        options = self.query_one("#open-list", OptionList)
        if options.option_count:
            options.highlighted = 0

    def action_move(self, step: int) -> None:
        """Up and Down in the path field walk the list (the list itself has its own)."""
        options = self.query_one("#open-list", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._open(Path(event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self._open(Path(event.value.strip()).expanduser())
            return
        options = self.query_one("#open-list", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id is not None:
                self._open(Path(option.id))

    def _open(self, path: Path) -> None:
        if self._reading is not None:
            return  # one file at a time; the status line says which
        status = self.query_one("#open-error", Static)
        status.add_class("-reading")
        status.update(Text(f"reading {path} …"))
        self._reading = self.run_worker(
            partial(read_recording, path), thread=True, exit_on_error=False, name="read recording"
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._reading or not event.worker.is_finished:
            return
        self._reading = None
        status = self.query_one("#open-error", Static)
        status.remove_class("-reading")
        if event.state is WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif isinstance(event.worker.error, RecordingError):
            status.update(Text(str(event.worker.error)))
        elif event.worker.error is not None:
            raise event.worker.error  # a bug, not a bad file: the app's crash report says so
        else:
            status.update("")

    def action_cancel(self) -> None:
        self._reading = None  # a read still under way is dropped when it ends
        self.dismiss(None)
