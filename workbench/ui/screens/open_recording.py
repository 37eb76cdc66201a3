"""Choosing a recording to watch or replay: the recordings folder, newest first, or any path.

The chosen file is indexed in a thread (``workbench.recording.index``): a big recording takes
seconds to go through, and the screen must go on answering meanwhile. The status line says how
far it got a few times a second; Escape cancels it and leaves at once.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from workbench.recording.format import RecordingError
from workbench.recording.index import Indexing, RecordingIndex
from workbench.recording.writer import SUFFIX
from workbench.ui.model import human_bytes

PROGRESS_INTERVAL = 0.2
"""Seconds between updates of the indexing progress line."""


def progress_text(indexing: Indexing) -> str:
    """``indexing big.wbrec: 412.3 MiB of 1.0 GiB, 96,312 events · Escape cancels``."""
    events = indexing.events
    noun = "event" if events == 1 else "events"
    return (
        f"indexing {indexing.path.name}: {human_bytes(indexing.done)} of"
        f" {human_bytes(indexing.total)}, {events:,} {noun} · Escape cancels"
    )


def recordings_in(folder: Path) -> list[Path]:
    """Newest first: the one just recorded is the one people want to watch.

    ``.jsonl`` too: recordings from before format 2, and those exported for jq.
    """
    if not folder.is_dir():
        return []
    found = [*folder.glob(f"*{SUFFIX}"), *folder.glob("*.jsonl")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class OpenRecordingScreen(ModalScreen[RecordingIndex | None]):
    """Type a path, or pick from the list; a malformed file is explained, not opened.

    The path field has the focus from the start, so what is typed is never lost; Up and Down
    move through the list from there, and Enter on an empty path opens the highlighted one
    (the newest at first, so Enter alone opens it). ``open_now`` opens a file at once, as
    ``--open`` does. The index it gives back is the receiver's to close.
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

    def __init__(self, folder: Path, open_now: Path | None = None) -> None:
        super().__init__()
        self._folder = folder
        self._open_now = open_now
        self._indexing: Indexing | None = None
        self._worker: Worker[None] | None = None
        self._progress: Timer | None = None

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
        if self._open_now is not None:
            self.query_one("#open-path", Input).value = str(self._open_now)
            self._open(self._open_now)

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
        if self._indexing is not None:
            return  # one file at a time; the status line says which
        status = self.query_one("#open-error", Static)
        status.add_class("-reading")
        self._indexing = indexing = Indexing(path)
        status.update(Text(progress_text(indexing)))
        self._progress = self.set_interval(PROGRESS_INTERVAL, self._show_progress)
        self._worker = self.run_worker(
            indexing.run, thread=True, exit_on_error=False, name="index recording"
        )

    def _show_progress(self) -> None:
        if self._indexing is not None:
            self.query_one("#open-error", Static).update(Text(progress_text(self._indexing)))

    def _stop(self) -> Indexing | None:
        """Forget the indexing under way (if any) and stop showing its progress."""
        indexing, self._indexing, self._worker = self._indexing, None, None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        return indexing

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        indexing = self._stop()
        status = self.query_one("#open-error", Static)
        status.remove_class("-reading")
        index = indexing.take() if indexing is not None else None
        if event.state is WorkerState.SUCCESS and index is not None:
            self.dismiss(index)
        elif isinstance(event.worker.error, RecordingError):
            status.update(Text(str(event.worker.error)))
        elif event.worker.error is not None:
            raise event.worker.error  # a bug, not a bad file: the app's crash report says so
        else:
            status.update("")

    def action_cancel(self) -> None:
        self._cancel()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel()  # the app quitting: stop the thread, close what it made

    def _cancel(self) -> None:
        indexing = self._stop()
        if indexing is not None:
            indexing.cancel()  # stops within a piece of work; a finished index is closed
