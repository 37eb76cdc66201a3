"""A half-closed peer can be answered from the composer: the promise of F1 help, end to end.

`printf 'GET /\\r\\n\\r\\n' | ncat 127.0.0.1 PORT`: the peer stays in the table as "peer done
sending"; we pick it, type the answer, press Enter, and ncat prints it; closing it from the
table ends ncat.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.ui.helpers import start_listening, type_and_send, wait_until
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.peer_table import PeerTable

pytestmark = pytest.mark.asyncio

WAIT_SECONDS = 10


async def test_a_half_closed_ncat_is_answered_from_the_composer() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        port = await start_listening(app, pilot)
        ncat = await asyncio.create_subprocess_exec(
            "ncat",
            "127.0.0.1",
            str(port),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert ncat.stdin is not None and ncat.stdout is not None
            ncat.stdin.write(b"GET /\r\n\r\n")
            await ncat.stdin.drain()
            ncat.stdin.close()  # FIN: ncat is done sending, and waits for our answer

            def half_open() -> bool:
                peers = app.model.peers_of(app.listener_id)
                return len(peers) == 1 and peers[0].state == "half-closed (FIN by peer)"

            await wait_until(pilot, half_open, "the peer's FIN")
            [peer] = app.model.peers_of(app.listener_id)
            table = app.query_one("#peers", PeerTable)

            def listed_half_open() -> bool:
                rows = [table.get_row_at(row)[5] for row in range(table.row_count)]
                return rows == ["half-closed (FIN by peer)"]

            await wait_until(pilot, listed_half_open, "the peer listed as done sending")

            table.focus()
            table.move_cursor(row=table.get_row_index(peer.id))
            await pilot.press("enter")
            assert app.query_one(Composer).target_label.startswith(f"→ peer #{peer.id}")
            await type_and_send(pilot, "HTTP/1.0 200 OK")
            await wait_until(pilot, lambda: peer.bytes_out == 16, "our answer sent")
            assert peer.alive and peer.state == "half-closed (FIN by peer)"

            table.focus()
            table.move_cursor(row=table.get_row_index(peer.id))
            await pilot.press("c")
            await wait_until(pilot, lambda: not peer.alive, "our close")
            assert peer.state == "closed (FIN by us)"
            printed = await asyncio.wait_for(ncat.stdout.read(), WAIT_SECONDS)
            assert await asyncio.wait_for(ncat.wait(), WAIT_SECONDS) == 0
        finally:
            if ncat.returncode is None:
                ncat.kill()
                await ncat.wait()
    assert printed == b"HTTP/1.0 200 OK\n"
