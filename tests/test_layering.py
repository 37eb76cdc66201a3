"""The arrows of the architecture, checked in a fresh interpreter each."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after_import(*names: str) -> set[str]:
    code = f"import sys; import {', '.join(names)}; print(' '.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "package",
    [
        "workbench.core",
        "workbench.recording.recorder, workbench.recording.replay, workbench.recording.mock",
        "workbench.cli.replay, workbench.cli.mock, workbench.cli.show",
        "workbench.settings, workbench.saved_messages, workbench.codec, workbench.safe_text",
        "workbench.describe",
        "workbench.ui.model, workbench.ui.event_store, workbench.ui.event_search",
        "workbench.ui.target, workbench.ui.redraw",
    ],
)
def test_sans_ui_modules_never_import_textual_or_rich(package: str) -> None:
    loaded = modules_after_import(package)
    assert "textual" not in loaded and "rich" not in loaded


def test_the_command_line_parses_without_trio_or_textual() -> None:
    loaded = modules_after_import("workbench.cli")
    assert "trio" not in loaded and "textual" not in loaded
