"""The screen under stress: a peer that never reads, hostile bytes, wide-open binds, full disks."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.ui.helpers import wait_until
from workbench.events import Received
from workbench.recording import writer as writer_module
from workbench.recording.reader import read_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.peer_table import PeerTable

pytestmark = pytest.mark.asyncio
HOSTILE = [
    b"\x1b[2J\x1b[31mred\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    b"[bold red]markup[/bold red] [link=http://x]click[/link]",
    b"nul\x00byte \xff\xfe invalid utf-8 \xc3\x28 \xe2\x80\xae rtl",
]


async def listen(app: WorkbenchApp, pilot) -> int:  # type: ignore[no-untyped-def]
    await pilot.press("f5")
    await wait_until(pilot, lambda: app.query_one("#server-status").has_class("-listening"), "up")
    return app.model.listeners[app.listener_id].local.port  # type: ignore[index, union-attr]


async def test_a_peer_that_never_reads(tmp_path: Path) -> None:
    """200 MB to a sleeping peer: sends back off, the composer says why, keys work, close works."""
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await listen(app, pilot)
        with socket.create_connection(("127.0.0.1", port)):  # a peer that never reads
            table = app.query_one("#peers", PeerTable)
            await wait_until(pilot, lambda: table.row_count == 1, "the peer")
            peer = app.model.peers_of(app.listener_id)[0].id
            table.focus()
            await pilot.press("enter")  # target the peer
            app.bridge.send(peer, b"\x00" * (200 * 1024 * 1024))
            composer = app.query_one(Composer)
            await wait_until(
                pilot, lambda: "not keeping up" in composer.target_label, "the warning"
            )
            view = app.model.connections[peer]
            assert 0 < view.bytes_out < 200 * 1024 * 1024 and view.pending > 0
            await pilot.press("escape", *"still typing")
            assert composer.query_one("#composer-input", Input).value == "still typing"
            table.focus()
            await pilot.press("c")
            await wait_until(pilot, lambda: not view.alive, "the close")
            assert view.state == "closed (FIN by us)" and view.pending == 0


async def test_hostile_bytes_are_inert_and_recorded_exactly(tmp_path: Path) -> None:
    big = os.urandom(10 * 1024 * 1024)
    record = tmp_path / "hostile.jsonl"
    app = WorkbenchApp(record=record)
    async with app.run_test(size=(120, 40)) as pilot:
        port = await listen(app, pilot)
        _, peer = await asyncio.open_connection("127.0.0.1", port)
        for payload in HOSTILE:
            peer.write(payload)
            await peer.drain()
            await pilot.pause()  # separate reads, so each payload gets its own row
        peer.write(big)
        await peer.drain()
        expected = b"".join(HOSTILE) + big
        log = app.query_one(EventLog)
        await wait_until(pilot, lambda: log.store.bytes_in == len(expected), "all bytes")
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\x07" not in screen and "\u202e" not in screen
        rows = [log.row_text(r) for r in range(log.store.visible_count)]
        assert any("[bold red]markup[/bold red]" in row for row in rows)
        await pilot.press("ctrl+r")
        peer.close()
        await peer.wait_closed()
    recording = read_recording(record)
    received = b"".join(e.data for e in recording.events if isinstance(e, Received))
    assert received == expected


async def test_the_log_keeps_its_payload_cap_and_the_recording_keeps_everything(
    tmp_path: Path,
) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"log_payload_mib": 1}))
    record = tmp_path / "flood.wbrec"
    stream = os.urandom(4 << 20)
    app = WorkbenchApp(config=tmp_path, record=record)
    async with app.run_test(size=(120, 40)) as pilot:
        port = await listen(app, pilot)
        _, peer = await asyncio.open_connection("127.0.0.1", port)
        peer.write(stream)
        await peer.drain()
        log = app.query_one(EventLog)
        await wait_until(pilot, lambda: log.store.bytes_in == len(stream), "all bytes")
        assert 0 < log.store.payload_bytes <= 1 << 20 and log.store.dropped > 0
        await wait_until(pilot, lambda: "oldest dropped" in str(log.border_subtitle), "the note")
        await pilot.press("ctrl+r")
        peer.close()
        await peer.wait_closed()
    received = [e.data for e in read_recording(record).events if isinstance(e, Received)]
    assert b"".join(received) == stream


async def test_a_crowd_of_peers_is_listed_in_full() -> None:
    crowd = 310
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await listen(app, pilot)
        peers = [await asyncio.open_connection("127.0.0.1", port) for _ in range(crowd)]
        table = app.query_one("#peers", PeerTable)
        await wait_until(pilot, lambda: table.row_count == crowd, "every peer listed")
        listed = {table.get_row_at(row)[1] for row in range(crowd)}
        assert listed == {f"127.0.0.1:{w.get_extra_info('sockname')[1]}" for _, w in peers}
        for _, writer in peers:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for _, writer in peers))


async def test_binding_every_interface_shows_a_warning() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#server-host", Input).value = "0.0.0.0"
        await pilot.press("f5")
        status = app.query_one("#server-status")
        await wait_until(pilot, lambda: status.has_class("-warning"), "the warning")
        assert "every network interface" in str(status.render())


async def test_default_bind_is_loopback_only() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await listen(app, pilot)
        local = app.model.listeners[app.listener_id].local  # type: ignore[index]
        assert local is not None and local.host == "127.0.0.1"


async def test_a_full_disk_stops_recording_and_the_session_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = WorkbenchApp(record=tmp_path / "r.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        port = await listen(app, pilot)

        def full_disk(fd: int, buffers: object) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(writer_module.os, "writev", full_disk)
        _, peer = await asyncio.open_connection("127.0.0.1", port)
        peer.write(b"before the disk filled")
        messages = lambda: " ".join(n.message for n in app._notifications)  # noqa: E731
        await wait_until(pilot, lambda: "No space left" in messages(), "the disk notice")
        assert app.query_one(EventLog).border_title == ""
        peer.write(b" and after")
        log = app.query_one(EventLog)
        await wait_until(pilot, lambda: log.store.bytes_in == 32, "the session going on")
        peer.close()
        await peer.wait_closed()
