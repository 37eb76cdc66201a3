"""Client tabs, and every action a user can repeat fast or aim at something going away.

A real terminal delivers keys as fast as they are typed: a second F7 can arrive before the
screen has dealt with what the first one did. ``burst`` queues keys the same way, all at
once, where ``pilot.press`` would wait for the app to settle after each key.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.helpers import open_tab, start_listening, wait_until
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.help import HelpScreen
from workbench.ui.target import ClientTarget
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.peer_table import PeerTable

pytestmark = pytest.mark.asyncio


async def burst(app: WorkbenchApp, pilot: Pilot[None], *keys: str) -> None:
    """Queue every key before the app handles the first, then let it settle."""
    for key in keys:
        app.post_message(events.Key(key, None))
    queue = app._message_queue
    await wait_until(pilot, lambda: not (app.is_running and queue.qsize()), "the keys handled")
    await pilot.pause()


def tab_labels(app: WorkbenchApp) -> list[str]:
    tabs = app.query_one("#clients")
    return [str(tabs.get_tab(session.parent.id).label) for session in app.sessions()]


@pytest.mark.parametrize("presses", [2, 3])
async def test_closing_tabs_as_fast_as_keys_arrive_closes_that_many(presses: int) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*["f6"] * 4)
        await burst(app, pilot, *["f7"] * presses)
        assert len(app.sessions()) == 4 - presses
        active = app.active_session()
        assert active is not None
        assert app.target == ClientTarget(active), "the composer sends to the tab on show"


async def test_closing_every_connected_tab_at_once_closes_every_connection() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        sessions = [await open_tab(app, pilot, port) for _ in range(3)]
        await burst(app, pilot, *["f7"] * 5)  # two more than there are tabs
        assert app.sessions() == [] and app.target is None
        assert app.query_one("#no-clients").display
        conns = [session.conn_id for session in sessions]
        await wait_until(
            pilot,
            lambda: all(not app.model.connections[c].alive for c in conns),  # type: ignore[index]
            "every closed tab's connection to close",
        )


async def test_opening_and_closing_tabs_in_one_burst() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(app, pilot, "f6", "f7", "f6", "f6", "f7", "f6")
        assert len(app.sessions()) == 2
        await burst(app, pilot, "f7", "f6", "f7", "f7")
        assert app.sessions() == [] and app.target is None


async def test_a_tab_closed_before_its_connect_lands_leaves_no_connection_behind() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        await pilot.press("f6")
        session = app.active_session()
        assert session is not None
        session.query_one(".client-port", Input).value = str(port)
        await burst(app, pilot, "f8", "f7")
        assert app.sessions() == []
        clients = [c for c in app.bridge.engine.connections.values() if c.listener is None]
        assert clients == [] and session.conn_id is None, "no connection without a tab"


async def test_listen_pressed_twice_quickly_listens_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(app, pilot, "f5", "f5")
        await wait_until(
            pilot, lambda: app.query_one("#server-status").has_class("-listening"), "up"
        )
        engine = app.bridge.engine
        assert engine is not None
        await pilot.pause()
        assert list(engine.listeners) == [app.listener_id], "one listener, the one shown"


async def test_listen_works_again_after_a_listen_failed() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            app.query_one("#server-port", Input).value = str(taken.getsockname()[1])
            await pilot.press("f5")
            failed = app.listener_id
            await wait_until(
                pilot, lambda: app.model.listeners.get(failed) is not None, "the failure"
            )
        app.query_one("#server-port", Input).value = "0"
        await start_listening(app, pilot)
        assert app.listener_id != failed


async def test_stop_pressed_twice_quickly_stops_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await start_listening(app, pilot)
        await burst(app, pilot, "f5", "f5")
        status = app.query_one("#server-status")
        await wait_until(pilot, lambda: not status.has_class("-listening"), "stopped")
        assert app.bridge.engine is not None and not app.bridge.engine.listeners


async def test_closing_a_peer_twice_quickly_closes_it_once() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        session = await open_tab(app, pilot, port)
        table = app.query_one("#peers", PeerTable)
        await wait_until(pilot, lambda: table.row_count == 1, "the peer in the table")
        table.focus()
        await pilot.pause()
        peer = app.model.peers_of(app.listener_id)[0].id
        await burst(app, pilot, "c", "c", "r")  # and a reset of the peer on its way out
        await wait_until(pilot, lambda: not app.model.connections[peer].alive, "peer closed")
        await wait_until(
            pilot, lambda: session.view.state == "half-closed (FIN by peer)", "tab sees it"
        )


async def test_recording_toggled_quickly_ends_with_the_last_press(tmp_path: Path) -> None:
    app = WorkbenchApp(recordings_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(app, pilot, "ctrl+r", "ctrl+r")
        assert app.recording.recorder is None
        await burst(app, pilot, "ctrl+r", "ctrl+r", "ctrl+r")
        assert app.recording.recorder is not None
        await pilot.press("ctrl+r")
        saved = lambda: [n for n in app._notifications if n.title == "recording saved"]  # noqa: E731
        await wait_until(pilot, lambda: len(saved()) == 3, "three recordings saved")
        assert len({n.message for n in saved()}) == 3, "three files, each named once"


async def test_dialogs_opened_and_closed_in_a_burst() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await burst(app, pilot, "f1", "escape", "f1", "escape", "ctrl+s", "escape")
        await burst(app, pilot, "ctrl+o", "escape", "ctrl+o", "escape", "f1", "f1", "f1")
        assert isinstance(app.screen, HelpScreen)  # F1 toggles help: open, shut, open
        await burst(app, pilot, "escape", "f6", "f7", "escape")
        assert app.screen is app.screen_stack[0] and app.sessions() == []
        assert app.query_one(Composer).target_label.startswith("→ nothing yet")


async def test_tabs_to_one_server_are_labelled_apart_by_connection_id() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(160, 40)) as pilot:
        port = await start_listening(app, pilot)
        await pilot.press("f6", "f6")
        first, second = tab_labels(app)  # not connected yet: told apart by their numbers
        assert first.startswith("tab 1 · ") and second.startswith("tab 2 · ")
        await burst(app, pilot, "f7", "f7")
        sessions = [await open_tab(app, pilot, port) for _ in range(3)]
        labels = tab_labels(app)
        assert labels == [f"#{s.conn_id} 127.0.0.1:{port}" for s in sessions]
        assert len(set(labels)) == 3
        await pilot.press("f8")  # disconnect the last: its label still names its connection
        await wait_until(pilot, lambda: not sessions[-1].view.alive, "disconnect")
        assert tab_labels(app) == labels
