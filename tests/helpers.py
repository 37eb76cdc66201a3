"""Helpers for any test: the ``workbench`` command run as a user runs it, without a terminal,
and big files that cost no disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def sparse(path: Path, size: int, start: bytes = b"") -> Path:
    """``start``, then zero bytes up to ``size``: a file of any size that costs no disk, and
    whose reading costs no I/O (no newline anywhere after ``start``)."""
    with path.open("wb") as file:
        file.write(start)
        file.truncate(size)
    return path
