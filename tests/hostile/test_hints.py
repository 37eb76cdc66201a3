"""Hints promise only what exists: the connect timeout they suggest is there to lengthen."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.helpers import run
from tests.ui.helpers import wait_until
from workbench.events import Address, Connecting, Error
from workbench.settings import SettingsStore
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.event_log import EventLog

FILLERS_MAX = 16


@contextmanager
def listener_that_never_answers() -> Iterator[int]:
    """A loopback listener whose accept queue is full: the kernel drops further SYNs, so a
    connect to it hangs until the caller's timeout. Yields its port."""
    with ExitStack() as stack:
        stuck = stack.enter_context(socket.socket())
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(0)
        port = stuck.getsockname()[1]
        for _ in range(FILLERS_MAX):
            filler = stack.enter_context(socket.socket())
            filler.settimeout(0.3)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.fail("the accept queue never filled up")
        yield port


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "3601", "ten", ""])
def test_a_connect_timeout_that_is_no_number_of_seconds_is_refused_in_one_line(
    value: str,
) -> None:
    for command in ([], ["replay", "x.jsonl", "--target", "127.0.0.1:9"]):
        result = run(*command, "--connect-timeout", value)
        assert result.returncode == 2, result.stderr
        assert "--connect-timeout" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_help_names_the_connect_timeout() -> None:
    assert "--connect-timeout SECONDS" in run("--help").stdout


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(30, 30.0), (0.25, 0.25), (0, 10.0), (-5, 10.0), (True, 10.0), ("30", 10.0), (1e9, 10.0)],
)
def test_the_connect_timeout_setting_is_checked_like_the_others(
    tmp_path: Path, stored: object, expected: float
) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"connect_timeout": stored}))
    settings, notice = SettingsStore(tmp_path).load()
    assert settings.connect_timeout == expected
    assert (notice is None) == (expected == stored)


@pytest.mark.asyncio
async def test_a_tab_gives_up_after_the_chosen_timeout_and_says_how_to_wait_longer() -> None:
    with listener_that_never_answers() as port:
        app = WorkbenchApp(connect=[Address("127.0.0.1", port)], connect_timeout=0.6)
        async with app.run_test(size=(100, 30)) as pilot:
            store = app.query_one(EventLog).store

            def error() -> Error | None:
                return next((e for e in store.view() if isinstance(e, Error)), None)

            await wait_until(pilot, lambda: error() is not None, "the connect to time out")
            failed = error()
            assert failed is not None
            connecting = next(e for e in store.view() if isinstance(e, Connecting))
            assert connecting.timeout == 0.6
            assert 0.6 <= failed.mono - connecting.mono < 3.0
            assert "no answer" in failed.message
            assert "--connect-timeout" in failed.hint and "connect_timeout" in failed.hint


def test_the_saved_setting_is_the_default_timeout(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.load()
    store.update(connect_timeout=42.5)
    app = WorkbenchApp(config=tmp_path)
    assert app.client_control.connect_timeout == 42.5
    assert WorkbenchApp(config=tmp_path, connect_timeout=3).client_control.connect_timeout == 3
