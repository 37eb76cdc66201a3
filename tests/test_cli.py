"""The command line answers without a terminal and refuses bad values with one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run
from workbench import __version__


def test_version_and_help_without_a_terminal() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"workbench {__version__}"
    help_text = run("--help")
    assert help_text.returncode == 0
    for option in ("--listen", "--connect"):
        assert option in help_text.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--listen", "127.0.0.1:70000"], "out of range"),
        (["--connect", "127.0.0.1:0"], "out of range"),
        (["--connect", "localhost"], "has no port"),
        (["--listen", "::1:5000"], "brackets"),
        (["--connect", ":5000"], "host is empty"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(args: list[str], complaint: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_the_readme_route_puts_workbench_on_the_path_of_an_activated_venv() -> None:
    """The README says: install into .venv, `. .venv/bin/activate`, then `workbench ...`."""
    bin_dir = Path(sys.executable).parent
    activated = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}
    result = subprocess.run(
        ["sh", "-c", "workbench --version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=activated,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"workbench {__version__}"
