"""The look of the main screen, idle and with traffic, fed with fixed events so it repeats."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.widgets import Input

from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Error,
    Listening,
    Received,
    Sent,
    Side,
)
from workbench.themes import themes_dir
from workbench.ui.app import WorkbenchApp
from workbench.ui.bridge import EngineEvents

T0 = 1_764_000_000.0
SERVER = Address("127.0.0.1", 5000)
CLIENT = Address("127.0.0.1", 41000)
OTHER = Address("127.0.0.1", 41002)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log timestamps are local time; pin the zone so the picture is the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def traffic() -> list[object]:
    def at(seq: int) -> dict[str, object]:
        return {"seq": seq, "mono": 100.0 + seq, "wall": T0 + seq / 10}

    peer = {"conn": 2, "side": Side.PEER, "local": SERVER, "remote": CLIENT}
    client = {"conn": 3, "side": Side.CLIENT, "local": CLIENT, "remote": SERVER}
    return [
        Listening(**at(1), conn=1, side=Side.LISTENER, local=SERVER, backlog=128),
        Connecting(**at(2), conn=3, side=Side.CLIENT, remote=SERVER, timeout=10.0),
        Accepted(**at(3), **peer, listener=1),
        Connected(**at(4), **client),
        Sent(**at(5), **client, data=b"GET / HTTP/1.0\r\n\r\n"),
        Received(**at(6), **peer, data=b"GET / HTTP/1.0\r\n\r\n"),
        Sent(**at(7), **peer, data=b"\x1b[31m[bold]not markup[/]\x00\xff"),
        Received(**at(8), **client, data=b"\x1b[31m[bold]not markup[/]\x00\xff"),
        Accepted(**at(9), conn=4, side=Side.PEER, local=SERVER, remote=OTHER, listener=1),
        Closed(**at(10), conn=4, side=Side.PEER, local=SERVER, remote=OTHER, by=Closer.PEER_RESET),
        Error(
            **at(11),
            conn=5,
            side=Side.CLIENT,
            remote=Address("127.0.0.1", 6000),
            operation="connect",
            errno=111,
            message="connection refused by 127.0.0.1:6000",
            hint="nothing is listening on 127.0.0.1:6000 — is the server running?",
        ),
    ]


def test_idle_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = WorkbenchApp(clock=lambda: 112.0)

    async def steady_cursor(pilot) -> None:  # type: ignore[no-untyped-def]
        """The focused composer's cursor blinks: a slow run caught it off (seen under load)."""
        app.query_one("#composer-input", Input).cursor_blink = False

    assert snap_compare(app, terminal_size=(100, 30), run_before=steady_cursor)


SHIPPED_THEMES = sorted(path.stem for path in themes_dir().glob("*.toml"))


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
def test_screen_with_traffic(snap_compare, theme: str) -> None:  # type: ignore[no-untyped-def]
    app = WorkbenchApp(clock=lambda: 112.0, theme_name=theme)

    async def feed(pilot) -> None:  # type: ignore[no-untyped-def]
        session = await app.action_new_client("127.0.0.1", "5000")
        session.conn_id = 3
        app.server.listener_id = 1
        app.post_message(EngineEvents(traffic()))  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("escape")

    assert snap_compare(app, terminal_size=(100, 30), run_before=feed)
