"""An engine event reaches the app through the trio guest-mode bridge; quitting closes sockets."""

from __future__ import annotations

import asyncio

import pytest

from tests.ui.helpers import wait_until
from workbench.events import Received
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.event_log import EventLog


@pytest.mark.asyncio
async def test_event_reaches_app_and_quit_closes_every_socket() -> None:
    app = WorkbenchApp()
    async with app.run_test() as pilot:
        await pilot.press("f5")  # listen on the default 127.0.0.1:0
        await wait_until(
            pilot, lambda: any(v.listening for v in app.model.listeners.values()), "listening"
        )
        listener = next(iter(app.model.listeners.values()))
        assert listener.local is not None and listener.local.port != 0
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.local.port)
        writer.write(b"through the bridge")
        await writer.drain()
        log = app.query_one(EventLog)
        await wait_until(
            pilot,
            lambda: any(isinstance(e, Received) for e in log.store.view()),
            "the recv event in the log",
        )
        received = next(e for e in log.store.view() if isinstance(e, Received))
        assert received.data == b"through the bridge"
        await pilot.press("ctrl+q")
    assert await asyncio.wait_for(reader.read(), 5) == b"", "the peer socket was closed"
    writer.close()
    await writer.wait_closed()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", listener.local.port)
    assert app.bridge.engine is not None and not app.bridge.engine.connections
