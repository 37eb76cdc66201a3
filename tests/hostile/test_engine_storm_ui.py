"""A connect+RST storm against the app's server: it keeps listening, and the screen stays calm.

Each reset is in the log with its hint; the toasts only say that something went wrong, at most
one every ``GAP`` seconds, the next one counting the errors since, so a port scanner cannot
bury the screen (and its time) under notifications.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from tests.ui.helpers import start_listening, wait_until
from workbench.events import Closed, Closer
from workbench.ui.app import WorkbenchApp
from workbench.ui.error_notices import GAP
from workbench.ui.widgets.event_log import EventLog

pytestmark = pytest.mark.asyncio

STORM = 300


def connect_and_reset(port: int, count: int) -> None:
    for _ in range(count):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.connect(("127.0.0.1", port))


async def test_a_reset_storm_keeps_the_server_listening_with_a_few_counted_toasts() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        log = app.query_one(EventLog).store
        started = time.monotonic()
        await asyncio.to_thread(connect_and_reset, port, STORM)

        def resets() -> int:
            return sum(
                1
                for event in log.view()
                if isinstance(event, Closed) and event.by is Closer.PEER_RESET
            )

        await wait_until(pilot, lambda: resets() == STORM, "every reset in the log", within=30)
        errors = lambda: [n for n in app._notifications if n.title == "error"]  # noqa: E731
        # The first toast may hold a single error; the rest are counted in a later one.
        counted = lambda: any("errors (see the log)" in n.message for n in errors())  # noqa: E731
        await wait_until(pilot, counted, "a toast counting the errors", within=3 * GAP + 10)
        elapsed = time.monotonic() - started
        assert len(errors()) <= 1 + elapsed / GAP

        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"still here?\n")
            await wait_until(pilot, lambda: log.bytes_in == len(b"still here?\n"), "the client")
