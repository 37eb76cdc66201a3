"""Helpers for UI tests: a bounded wait on UI state (never a fixed sleep), the keys that start a
server or a client tab on the workbench screen, and small host apps for one widget alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from workbench.events import Address, Received, Side
from workbench.themes import event_variable_defaults
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.widgets.client_tab import ClientSession
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog

WAIT_SECONDS = 10.0


async def wait_until(
    pilot: Pilot[object],
    condition: Callable[[], bool],
    what: str,
    *,
    within: float = WAIT_SECONDS,
) -> None:
    """Let the app process messages until ``condition`` holds, failing after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


# -- the workbench screen, driven by its keys ---------------------------------------------


async def start_listening(app: WorkbenchApp, pilot) -> int:  # type: ignore[no-untyped-def]
    await pilot.press("f5")
    await wait_until(
        pilot, lambda: app.query_one("#server-status").has_class("-listening"), "listen"
    )
    listener = app.model.listeners[app.listener_id]  # type: ignore[index]
    assert listener.local is not None
    return listener.local.port


async def open_tab(app: WorkbenchApp, pilot, port: int) -> ClientSession:  # type: ignore[no-untyped-def]
    await pilot.press("f6")
    session = app.active_session()
    assert session is not None
    session.query_one(".client-port", Input).value = str(port)
    await pilot.press("f8")
    await wait_until(pilot, lambda: session.view is not None and session.view.alive, "connect")
    return session


async def type_and_send(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("escape")
    await pilot.press(*text)
    await pilot.press("enter")


# -- one widget alone --------------------------------------------------------------------


class ComposerApp(App[None]):
    """Just a composer with a live target, recording what it would send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def compose(self) -> ComposeResult:
        yield Composer()

    def on_mount(self) -> None:
        composer = self.query_one(Composer)
        composer.can_send = True
        composer.focus_input()

    def on_composer_send(self, message: Composer.Send) -> None:
        self.sent.append(message.data)


LOCAL = Address("127.0.0.1", 5000)
REMOTE = Address("127.0.0.1", 40000)
HOSTILE = b"\x1b[31m[bold red]boom[/]\x00\xff"


def received(seq: int, data: bytes = b"hello", conn: int = 2) -> Received:
    return Received(
        seq=seq,
        mono=0.0,
        wall=1_700_000_000.0 + seq,
        conn=conn,
        side=Side.PEER,
        local=LOCAL,
        remote=REMOTE,
        data=data,
    )


class LogApp(App[None]):
    def __init__(self, cap: int = 100_000) -> None:
        super().__init__()
        self.cap = cap
        self.messages: list[EventLog.Selected | EventLog.FilterRequested] = []

    def compose(self) -> ComposeResult:
        yield EventLog(cap=self.cap)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return event_variable_defaults(self.current_theme)

    def on_event_log_selected(self, message: EventLog.Selected) -> None:
        self.messages.append(message)
        self.push_screen(PayloadScreen(message.event))

    def on_event_log_filter_requested(self, message: EventLog.FilterRequested) -> None:
        self.messages.append(message)
