"""Choosing a file to send: type a path, or pick one from the folder tree.

A file that cannot be sent (missing, a directory, unreadable, a FIFO or a device) is explained
here, inline, and the screen stays open; only a file that opened is handed back. The path and
every file name are shown as plain text, never parsed as markup.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, Static

from workbench.endpoints import BadArgument
from workbench.ui.bridge import FileSend, Outcome, open_file
from workbench.ui.model import human_bytes

STOP_KEY = "Ctrl+G"


def check_file(path: Path) -> tuple[Path, int]:
    """The absolute path and size of a file we can send; ``BadArgument`` says why not."""
    path = path.expanduser()
    fd, size = open_file(path)
    os.close(fd)
    return path.absolute(), size


def progress_line(job: FileSend, now: float) -> str:
    """One line on a file send: bytes sent of total, rate and pending, or how it ended."""
    where = ", ".join(f"#{conn}" for conn in job.conns) or "?"
    head = f"file {job.path.name} → {where}: "
    if job.outcome is Outcome.RUNNING and not job.opened:
        return f"{head}opening the file · {STOP_KEY} stops"  # its size is not known yet
    if job.outcome is Outcome.RUNNING:
        percent = job.sent * 100 // job.size if job.size else 100
        rate = human_bytes(int(job.rate(now)))
        return (
            f"{head}{human_bytes(job.sent)} of {human_bytes(job.size)} ({percent}%)"
            f" · {rate}/s · {human_bytes(job.pending)} pending · {STOP_KEY} stops"
        )
    if job.outcome is Outcome.DONE:
        took, rate = (job.ended or now) - job.started, human_bytes(int(job.rate(now)))
        line = f"{head}sent {human_bytes(job.size)} in {took:.1f} s ({rate}/s)"
        return f"{line} — {job.message}" if job.message else line
    return f"{head}{job.outcome}: {job.message}"


class SendFileScreen(ModalScreen[Path | None]):
    """Enter on the path or a file in the tree sends it to ``target``; Escape cancels."""

    DEFAULT_CSS = """
    SendFileScreen { align: center middle; }
    SendFileScreen > Vertical {
        width: 80%; max-width: 110; height: 80%; border: round $accent; background: $panel;
        padding: 0 1;
    }
    SendFileScreen DirectoryTree { height: 1fr; }
    SendFileScreen #send-file-error { color: $text-error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#send-file-path"  # focused as the screen is built: no typed key is lost

    def __init__(self, target: str, folder: Path) -> None:
        super().__init__()
        self._target = target
        self._folder = folder if folder.is_dir() else Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Send a file {self._target}. Type a path, or pick one below:"))
            yield Input(placeholder="path/to/file", id="send-file-path")
            yield DirectoryTree(self._folder, id="send-file-tree")
            yield Static(id="send-file-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self._choose(Path(event.value.strip()))

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self._choose(event.path)

    def _choose(self, path: Path) -> None:
        try:
            chosen, _ = check_file(path)
        except BadArgument as exc:
            self.query_one("#send-file-error", Static).update(Text(str(exc)))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
