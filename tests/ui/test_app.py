"""The workbench screen end to end: real sockets on 127.0.0.1, state read back through the Pilot."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from textual.widgets import Input

from tests.ui.helpers import open_tab, start_listening, type_and_send, wait_until
from workbench.events import Address, Received, Sent
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.peer_table import PeerTable

pytestmark = pytest.mark.asyncio


def log_rows(app: WorkbenchApp) -> list[str]:
    log = app.query_one(EventLog)
    return [log.row_text(row) for row in range(log.store.visible_count)]


def received_by(app: WorkbenchApp, conn: int) -> bytes:
    store = app.query_one(EventLog).store
    return b"".join(e.data for e in store.view() if isinstance(e, Received) and e.conn == conn)


async def test_two_tabs_and_the_server_talk_both_ways() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        first = await open_tab(app, pilot, port)
        second = await open_tab(app, pilot, port)
        assert "127.0.0.1:" in str(app.query_one("#clients").get_tab(second.parent.id).label)

        await type_and_send(pilot, "from second")  # the active tab is the second one
        await wait_until(pilot, lambda: second.view.bytes_out == 12, "second's send")
        app.query_one("#clients").active = first.parent.id
        await pilot.pause()
        await type_and_send(pilot, "from first")
        await wait_until(pilot, lambda: first.view.bytes_out == 11, "first's send")

        table = app.query_one("#peers", PeerTable)
        await wait_until(pilot, lambda: table.row_count == 2, "two peers in the table")
        peers = sorted(app.model.peers_of(app.listener_id), key=lambda p: p.id)
        await wait_until(pilot, lambda: sum(p.bytes_in for p in peers) == 23, "peers' bytes")
        assert {p.remote for p in peers} == {first.view.local, second.view.local}
        first_peer = next(p for p in peers if p.remote == first.view.local)
        await wait_until(pilot, lambda: table.get_row(first_peer.id)[3] == "11 B", "table")
        row = table.get_row(first_peer.id)
        assert row[0] == f"#{first_peer.id}" and row[5] == "open"

        # server → one peer: select it in the table, then send
        table.focus()
        table.move_cursor(row=table.get_row_index(first_peer.id))
        await pilot.press("enter")
        assert app.query_one(Composer).target_label.startswith(f"→ peer #{first_peer.id}")
        await type_and_send(pilot, "just you")
        await wait_until(pilot, lambda: received_by(app, first.conn_id) == b"just you\n", "unicast")
        assert received_by(app, second.conn_id) == b""

        # server → all peers
        await pilot.press("f4")
        assert app.query_one(Composer).target_label == "→ all peers (2)"
        await type_and_send(pilot, "everyone")
        await wait_until(pilot, lambda: received_by(app, second.conn_id) == b"everyone\n", "bcast")
        await wait_until(
            pilot, lambda: received_by(app, first.conn_id) == b"just you\neveryone\n", "bcast 2"
        )
        assert first.transcript() == ["→ from first\\n", "← just you\\n", "← everyone\\n"]
        assert second.transcript() == ["→ from second\\n", "← everyone\\n"]

        # close one peer from the table, disconnect the other from its tab
        table.focus()
        table.move_cursor(row=table.get_row_index(first_peer.id))
        await pilot.press("c")
        await wait_until(
            pilot, lambda: first.view.state == "half-closed (FIN by peer)", "peer closed"
        )
        app.query_one("#clients").active = second.parent.id
        await pilot.pause()
        await pilot.press("f8")
        await wait_until(pilot, lambda: second.view.state == "closed (FIN by us)", "disconnect")

        rows = log_rows(app)
        assert any(
            f"#{first.conn_id}" in r and "→ send" in r and "from first\\n" in r for r in rows
        )
        assert any(
            f"#{first_peer.id}" in r and "← recv" in r and "from first\\n" in r for r in rows
        )
        assert any("accept" in r for r in rows) and any("close" in r for r in rows)
        assert any(f"#{first_peer.id}" in r and "close" in r and "FIN by us" in r for r in rows)


async def test_time_connected_moves_with_the_clock_alone() -> None:
    now = [time.monotonic()]
    app = WorkbenchApp(clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        table = app.query_one("#peers", PeerTable)
        await wait_until(pilot, lambda: table.row_count == 1, "the peer")
        peer = app.model.peers_of(app.listener_id)[0]
        now[0] = peer.opened_at + 125.5  # no event happens: only the clock's tick can show this
        await wait_until(pilot, lambda: table.get_row_at(0)[2] == "2m05s", "the tick")
        writer.close()
        await writer.wait_closed()


async def test_hostile_bytes_arrive_escaped() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        session = await open_tab(app, pilot, port)
        peer_id = app.model.peers_of(app.listener_id)[0].id
        hostile = b"\x1b[31m[bold red]boom[/]\x1b]0;pwned\x07\x00\xff"
        app.bridge.send(peer_id, hostile)
        await wait_until(pilot, lambda: received_by(app, session.conn_id) == hostile, "hostile")
        escaped = "\\x1b[31m[bold red]boom[/]\\x1b]0;pwned\\x07\\0\\xff"
        assert any(escaped in row for row in log_rows(app))
        assert session.transcript() == ["← " + escaped]
        screen_text = app.export_screenshot()
        assert "\x1b" not in screen_text and "\x07" not in screen_text, "raw control on screen"
        assert "[bold" in screen_text and "boom[/]" in screen_text, "markup shown as literal text"


async def test_composer_modes_and_bad_input() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        session = await open_tab(app, pilot, port)
        composer = app.query_one(Composer)
        await pilot.press("f2")  # escapes
        await type_and_send(pilot, "a\\x00b\\t")
        await pilot.press("f2")  # hex
        await type_and_send(pilot, "de ad be e")  # odd: refused
        assert composer.query_one("#composer-input", Input).has_class("-invalid")
        await pilot.press("f")  # fixes it: "de ad be ef"
        await pilot.press("enter")
        expected = b"a\x00b\t\n" + b"\xde\xad\xbe\xef"
        sent = app.query_one(EventLog).store

        def sent_bytes() -> bytes:
            return b"".join(
                e.data for e in sent.view() if isinstance(e, Sent) and e.conn == session.conn_id
            )

        await wait_until(pilot, lambda: sent_bytes() == expected, "both valid messages sent")
        await pilot.press("f3")  # line ending cycles; hex ignores it
        await pilot.press("f2")
        assert composer.mode == "text"


async def test_connect_refused_shows_hint_in_the_tab() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        await pilot.press("f6")
        session = app.active_session()
        assert session is not None
        session.query_one(".client-port", Input).value = str(port)
        await pilot.press("f8")
        await wait_until(pilot, lambda: session.view and session.view.state == "failed", "fail")
        status = session.query_one(".client-status")
        hint = f"nothing is listening on 127.0.0.1:{port}"
        # The status line is redrawn with the panes (up to 100 ms after the event), not at once.
        await wait_until(pilot, lambda: hint in str(status.render()), "the hint in the tab")
        assert any("connection refused" in row for row in log_rows(app))


async def test_command_line_listen_and_connect() -> None:
    async def hang_up_at_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()
        await writer.wait_closed()

    probe = await asyncio.start_server(hang_up_at_eof, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp(connect=[Address("127.0.0.1", port)])
        async with app.run_test(size=(100, 30)) as pilot:
            session = app.active_session()
            assert session is not None
            await wait_until(pilot, lambda: session.view is not None and session.view.alive, "up")
            assert app.focused is app.query_one("#composer-input")
            assert app.query_one(Composer).target_label.startswith(f"→ client #{session.conn_id}")
    finally:
        probe.close()
        await probe.wait_closed()


async def test_help_screen_and_command_palette() -> None:
    from textual.command import CommandList, CommandPalette

    from workbench.ui.screens.help import HelpScreen

    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for expected in ("New tab", "Listen/Stop", "Record", "Watch recording", "Half-close"):
            assert expected in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"New tab")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, CommandPalette)
                and app.screen.query_one(CommandList).option_count > 0
            ),
            "the palette to list a match",
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.sessions()) == 1, "a tab opened from the palette")
