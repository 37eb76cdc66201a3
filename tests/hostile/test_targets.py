"""The server pane shows the address in use, and choosing where the composer sends is direct.

Real peers on loopback: ncat processes, and a plain socket where a reset (RST) is the point.
Waits are bounded polls of the app's state, never sleeps.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Input, Tabs

from tests.ui.helpers import open_tab, start_listening, wait_until
from workbench.events import Address
from workbench.settings import SettingsStore
from workbench.ui.app import WorkbenchApp
from workbench.ui.target import ClientTarget, PeerTarget
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.server_pane import ServerPane

pytestmark = pytest.mark.asyncio

WAIT_SECONDS = 10.0
SIZE = (120, 40)


def fields(app: WorkbenchApp) -> tuple[str, str]:
    pane = app.query_one(ServerPane)
    return pane.query_one("#server-host", Input).value, pane.query_one("#server-port", Input).value


def bound(app: WorkbenchApp) -> Address:
    listener = app.model.listeners[app.listener_id]  # type: ignore[index]
    assert listener.listening and listener.local is not None
    return listener.local


def listening(app: WorkbenchApp) -> bool:
    listener = app.model.listeners.get(app.listener_id)  # type: ignore[arg-type]
    return listener is not None and listener.listening


def shown_hints(app: WorkbenchApp) -> list[str]:
    """Every line on the screen that tells the user what to press next."""
    composer = app.query_one(Composer)
    status = app.query_one("#server-status")
    error = composer.query_one("#composer-error")
    return [
        composer.target_label,
        composer.target_keys,
        composer.no_target,
        str(status.render()),
        str(error.render()) if error.has_class("-shown") else "",
    ]


class Ncat:
    """A real ``ncat`` client: what we write goes to our server, what it prints we read."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.printed = b""

    async def read(self, count: int) -> bytes:
        assert self.process.stdout is not None
        data = await asyncio.wait_for(self.process.stdout.readexactly(count), WAIT_SECONDS)
        self.printed += data
        return data

    async def finish(self) -> None:
        """Close its input: ncat sends FIN, then exits once we close too."""
        assert self.process.stdin is not None
        self.process.stdin.close()


@asynccontextmanager
async def ncat(port: int, host: str = "127.0.0.1") -> AsyncIterator[Ncat]:
    process = await asyncio.create_subprocess_exec(
        "ncat",
        host,
        str(port),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield Ncat(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def peers_listed(app: WorkbenchApp, pilot: Pilot[None], count: int) -> list[int]:
    """Wait until ``count`` live peers are in the model and the table has a row under the
    cursor; returns their ids, oldest first."""

    def ready() -> bool:
        live = app.model.live_peers(None)
        return len(live) == count and app.query_one(ServerPane).selected_peer is not None

    await wait_until(pilot, ready, f"{count} peers listed")
    return sorted(peer.id for peer in app.model.live_peers(None))


# -- item 8: the server pane shows the address in use -------------------------------------------


async def test_listen_flag_with_port_0_shows_the_real_port_not_the_saved_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"host": "127.0.0.2", "port": "5999"}))
    app = WorkbenchApp(config=tmp_path, listen=Address("127.0.0.1", 0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: listening(app), "listening")
        real = bound(app)
        assert real.port != 0
        await wait_until(pilot, lambda: fields(app) == ("127.0.0.1", str(real.port)), "fields")
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert (saved["host"], saved["port"]) == ("127.0.0.1", "0"), "saved as asked: any free port"


async def test_f5_twice_listens_again_on_the_same_address_and_the_peers_stay(
    tmp_path: Path,
) -> None:
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        first = app.listener_id
        await wait_until(pilot, lambda: fields(app) == ("127.0.0.1", str(port)), "fields")
        async with ncat(port) as before:
            [old_peer] = await peers_listed(app, pilot, 1)
            await pilot.press("f5")  # stop: the peer stays
            await wait_until(pilot, lambda: not listening(app), "stopped")
            status = app.query_one("#server-status")
            await wait_until(pilot, lambda: "F5 listens again" in str(status.render()), "said")
            assert fields(app) == ("127.0.0.1", str(port))
            await pilot.press("f5")  # listen again: where the fields say, where it was
            await wait_until(pilot, lambda: app.listener_id != first and listening(app), "up")
            assert bound(app) == Address("127.0.0.1", port)
            assert fields(app) == ("127.0.0.1", str(port))
            async with ncat(port):  # a new peer finds us at the same address
                await peers_listed(app, pilot, 2)
                assert app.model.connections[old_peer].alive
                composer = app.query_one(Composer)
                assert composer.target_label == "→ all peers (2)", "the first peer is not lost"
                await pilot.press("escape", *"both", "enter")
                assert await before.read(5) == b"both\n", "all peers reach the first listener's"
    saved, _ = SettingsStore(tmp_path).load()
    assert saved.port == "0", "the settings keep what was asked, not the system's pick"


async def test_an_ipv6_listener_shows_its_bare_address_and_listens_there_again() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    app = WorkbenchApp(listen=Address("::1", 0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: listening(app), "listening")
        port = bound(app).port
        await wait_until(pilot, lambda: fields(app) == ("::1", str(port)), "fields")
        status = str(app.query_one("#server-status").render())
        assert f"listening on [::1]:{port}" in status
        await pilot.press("f5")
        await wait_until(pilot, lambda: not listening(app), "stopped")
        await pilot.press("f5")
        await wait_until(pilot, lambda: listening(app), "listening again")
        assert bound(app) == Address("::1", port)
        async with ncat(port, "::1") as peer:
            await peers_listed(app, pilot, 1)
            await pilot.press("escape", *"v6", "enter")
            assert await peer.read(3) == b"v6\n"


async def test_a_port_in_use_keeps_what_was_typed_and_says_why(tmp_path: Path) -> None:
    app = WorkbenchApp(config=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = str(taken.getsockname()[1])
            app.query_one("#server-port", Input).value = busy
            await pilot.press("f5")
            failed = app.listener_id
            status = app.query_one("#server-status")
            await wait_until(pilot, lambda: status.has_class("-error"), "the failure shown")
            assert f"port {busy} on 127.0.0.1 is already in use" in str(status.render())
            assert fields(app) == ("127.0.0.1", busy), "what was typed stays, to fix or retry"
            assert "F5 listen" in app.query_one(Composer).target_keys, "F5 would listen now"
        assert not (tmp_path / "settings.json").exists(), "a port that failed is not saved"
        app.query_one("#server-port", Input).value = "0"
        port = await start_listening(app, pilot)
        assert app.listener_id != failed
        await wait_until(pilot, lambda: fields(app) == ("127.0.0.1", str(port)), "fields")


async def test_no_hint_offers_listen_while_listening() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        await pilot.press("escape", *"x", "enter")  # all peers, but none yet: Enter explains
        composer = app.query_one(Composer)
        assert composer.target_label == "→ all peers (0)"
        assert f"no peer is connected to 127.0.0.1:{port} yet" in composer.no_target
        hints = shown_hints(app)
        assert composer.no_target in hints[-1], "the explanation is on screen"
        assert not [hint for hint in hints if "F5" in hint], hints

        await open_tab(app, pilot, port)
        await pilot.press("f7")  # the last tab closed: nothing chosen, still listening
        await wait_until(pilot, lambda: app.sessions() == [], "tab closed")
        assert composer.target_label.startswith("→ nothing yet")
        await pilot.press("escape", *"x", "enter")
        hints = shown_hints(app)
        assert not [hint for hint in hints if "F5" in hint or "Listen" in hint], hints
        assert "F4 all peers" in composer.target_keys and "F6 new tab" in composer.target_keys


# -- item 10: choosing a target is direct -------------------------------------------------------


async def test_the_peers_key_then_arrows_and_enter_choose_the_peer_the_composer_sends_to() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        async with ncat(port) as first:
            await peers_listed(app, pilot, 1)  # one at a time: ids in the order they started
            async with ncat(port) as second:
                ids = await peers_listed(app, pilot, 2)
                await choose_with_keys_and_send(app, pilot, ids, {ids[0]: first, ids[1]: second})


async def choose_with_keys_and_send(
    app: WorkbenchApp, pilot: Pilot[None], ids: list[int], peer_of: dict[int, Ncat]
) -> None:
    composer, pane = app.query_one(Composer), app.query_one(ServerPane)
    await pilot.press("escape")
    assert composer.target_keys.startswith("Ctrl+N a peer"), composer.target_keys
    focused: list[Widget | None] = []
    app.screen.watch(app.screen, "focused", lambda w: focused.append(w), init=False)

    await pilot.press("ctrl+n")
    assert app.focused is not None and app.focused.id == "peers"
    under_cursor = pane.selected_peer
    assert app.target == PeerTarget(under_cursor)
    await pilot.press("down" if under_cursor == ids[0] else "up")
    assert pane.selected_peer != under_cursor
    chosen = pane.selected_peer
    await pilot.press("enter")
    assert app.target == PeerTarget(chosen)
    assert composer.target_label.startswith(f"→ peer #{chosen} ")
    assert app.focused is composer.input, "Enter chose: back to the composer"
    assert not [w for w in focused if isinstance(w, Button)], focused

    await pilot.press(*"just you", "enter")
    assert chosen is not None
    assert await peer_of[chosen].read(9) == b"just you\n"
    other = ids[1] if chosen == ids[0] else ids[0]
    assert app.model.connections[other].bytes_out == 0


async def test_tab_from_the_composer_to_the_peers_passes_no_button() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        async with ncat(port):
            await peers_listed(app, pilot, 1)
            await pilot.press("escape")
            passed: list[Widget] = []
            for _ in range(10):
                await pilot.press("tab")
                assert app.focused is not None
                if app.focused.id == "peers":
                    break
                passed.append(app.focused)
            assert app.focused is not None and app.focused.id == "peers"
            assert not [w for w in passed if isinstance(w, Button)], passed
            await pilot.press("e")  # the Echo button's key, where Tab arrives
            assert str(app.query_one("#echo", Button).label) == "Echo: on"


async def test_f4_toggles_all_peers_on_and_off() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        session = await open_tab(app, pilot, port)
        [peer] = await peers_listed(app, pilot, 1)
        composer = app.query_one(Composer)
        assert composer.target_label.startswith(f"→ client #{session.conn_id}")

        await pilot.press("f4")
        assert composer.target_label == "→ all peers (1)"
        await pilot.press("f4")
        assert app.target == ClientTarget(session), "back to the tab"

        await pilot.press("ctrl+n", "enter")
        assert app.target == PeerTarget(peer)
        await pilot.press("f4", "f4")
        assert app.target == PeerTarget(peer), "back to the peer"
        await pilot.press("f4")
        await pilot.press(*"all", "enter")
        await wait_until(pilot, lambda: session.transcript() == ["← all\\n"], "sent to all")


async def test_the_tabs_key_chooses_a_tab_with_arrows_and_enter() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        first = await open_tab(app, pilot, port)
        second = await open_tab(app, pilot, port)
        await pilot.press("f4")  # all peers: Ctrl+Y brings the target back to a tab
        composer = app.query_one(Composer)
        assert "Ctrl+Y a tab" in composer.target_keys
        await pilot.press("ctrl+y")
        assert isinstance(app.focused, Tabs)
        assert app.target == ClientTarget(second)
        await pilot.press("left")
        await wait_until(pilot, lambda: app.target == ClientTarget(first), "first tab")
        await pilot.press("enter")
        assert app.focused is composer.input
        await pilot.press(*"one", "enter")
        await wait_until(
            pilot, lambda: first.view is not None and first.view.bytes_out == 4, "sent"
        )
        assert second.view is not None and second.view.bytes_out == 0


async def test_the_target_line_follows_the_last_peer_closing_on_the_close_itself() -> None:
    """No pane refresh and no clock tick: the batch holding the close updates the line."""
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        port = await start_listening(app, pilot)
        composer = app.query_one(Composer)
        with socket.create_connection(("127.0.0.1", port)) as resetting:
            await peers_listed(app, pilot, 1)
            assert composer.target_label == "→ all peers (1)" and composer.can_send
            app.pane_redraw.due = lambda: None  # type: ignore[method-assign]
            resetting.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await wait_until(pilot, lambda: composer.target_label == "→ all peers (0)", "the close")
        assert not composer.can_send
        assert "no peer is connected" in composer.no_target

        async with ncat(port) as peer:
            await wait_until(pilot, lambda: composer.target_label == "→ all peers (1)", "a peer")
            await peer.finish()  # FIN: ncat is done sending, and open until we close it
            done = "→ all peers (1) — 1 half-closed (FIN by peer)"
            await wait_until(pilot, lambda: composer.target_label == done, "the FIN")
            assert composer.can_send, "a peer done sending can still be answered"
