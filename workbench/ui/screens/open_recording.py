"""Choosing a recording to watch: the recordings folder, newest first, or any path."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

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
    """Pick from the list or type a path; a malformed file is explained, not opened."""

    DEFAULT_CSS = """
    OpenRecordingScreen { align: center middle; }
    OpenRecordingScreen > Vertical {
        width: 80%; max-width: 100; height: 80%; border: round $accent; background: $panel;
        padding: 0 1;
    }
    OpenRecordingScreen OptionList { height: 1fr; }
    OpenRecordingScreen #open-error { color: $text-error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._folder = folder

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
        """The newest recording is highlighted and focused, so Enter alone opens it."""
        options = self.query_one("#open-list", OptionList)
        if options.option_count:
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#open-path", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._open(Path(event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self._open(Path(event.value.strip()).expanduser())

    def _open(self, path: Path) -> None:
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            self.query_one("#open-error", Static).update(Text(str(exc)))
            return
        self.dismiss(recording)

    def action_cancel(self) -> None:
        self.dismiss(None)
