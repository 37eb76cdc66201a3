"""Crash reports: the traceback goes to a file, the terminal gets one line that names it.

A crash is our bug, never the user's, so the user sees one sentence and an exit status that
says so (``EXIT_CRASH``), and whoever files the bug has the whole traceback in a file.

The file goes in the user's state folder (``platformdirs.user_state_path``, on Linux
``$XDG_STATE_HOME/workbench/crashes``, by default ``~/.local/state/workbench/crashes``): it
survives the run and a reboot (unlike a temp folder), is not cleared like a cache, and does not
depend on the current directory (the recordings folder is relative and may not exist, and its
picker would list crash files next to recordings). When that folder cannot be written the
system's temp folder is used, and when even that fails the traceback goes to stderr whole:
a traceback is never lost. The file is created private (mode 0600, by ``mkstemp``), since a
traceback may quote bytes a peer sent.

Stdlib and platformdirs only: the CLI uses it for subcommands that never import Textual.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

import platformdirs

from workbench import __version__

EXIT_CRASH = 70
"""EX_SOFTWARE from sysexits.h: an internal error. Not 1 (replay: "differs") nor 2 (usage)."""

SUMMARY_LIMIT = 160
"""Characters of the exception's message quoted in the one line; the file has all of it."""


def crash_dir() -> Path:
    return platformdirs.user_state_path("workbench") / "crashes"


def report_crash(what: str, error: BaseException) -> str:
    """Save ``error``'s traceback to a new file; return the one line to print on stderr.

    ``what`` names what crashed, as in "the network engine crashed".
    """
    text = _report_text(error)
    saved: Path | None = None
    problems: list[str] = []
    for folder in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            saved = _write_report(folder, text)
            break
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
    summary = summarize(error)
    if saved is None:
        sys.stderr.write(text)
        return f"workbench: {what} ({summary}); traceback above, not saved ({'; '.join(problems)})"
    return f"workbench: {what} ({summary}); traceback saved to {saved}"


def summarize(error: BaseException) -> str:
    """``Type: message`` of the innermost error that says something, on one safe line.

    trio wraps a task's error in exception groups; the user wants the error, not the wrapper.
    """
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    message = str(error)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    text = _escaped(" ".join(text.split()))  # one line, whatever the message held
    if len(text) > SUMMARY_LIMIT:
        text = text[: SUMMARY_LIMIT - 1] + "…"
    return text


def _report_text(error: BaseException) -> str:
    lines = [
        f"workbench {__version__} crash report, {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z}",
        f"python {platform.python_version()} on {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        "",
        "".join(traceback.format_exception(error)),
    ]
    return "\n".join(_escaped(line) for line in "\n".join(lines).split("\n")) + "\n"


def _escaped(text: str) -> str:
    """ESC, NUL, RLO… shown as escapes, never acted on by the terminal that shows them."""
    return "".join(
        c if c.isprintable() or c == "\t" else c.encode("unicode_escape").decode() for c in text
    )


def _write_report(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".txt", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as file:
        file.write(text)
    return Path(name)
