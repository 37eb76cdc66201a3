"""Newcomer polish: labels fit, counts agree with their nouns, prompts quote what was typed."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from tests.ui.helpers import wait_until
from workbench.codec import Mode
from workbench.describe import LINES_PER_CHUNK, tab_lines
from workbench.events import Received, Side
from workbench.recording.reader import read_recording
from workbench.recording.replay import ConnectionResult, ReplayReport, Verdict
from workbench.recording.scripts import client_scripts
from workbench.saved_messages import MessageStore
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.replay import report_text
from workbench.ui.screens.saved_messages import MessagesScreen
from workbench.wording import counted, quoted

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("number", "noun", "expected"),
    [
        (0, "connection", "0 connections"),
        (1, "connection", "1 connection"),
        (2, "connection", "2 connections"),
        (1, "event", "1 event"),
        (3, "match", "3 matches"),
    ],
)
def test_a_count_agrees_with_its_noun(number: int, noun: str, expected: str) -> None:
    assert counted(number, noun) == expected


def test_a_replay_of_one_connection_says_one_connection() -> None:
    recording = read_recording(REPO / "recordings" / "sample-echo.jsonl")
    script = client_scripts(recording.events, merge=False)[0]
    report = ReplayReport(results=(ConnectionResult(script, Verdict.MATCH),))
    assert report_text(report).splitlines()[-1].startswith("1 connection: 1 match, 0 differs")


def test_quoting_keeps_backslashes_single() -> None:
    assert quoted("saved hello\\n") == "'saved hello\\n'"


@pytest.mark.asyncio
async def test_the_name_prompt_quotes_the_message_as_the_log_would_show_it(
    tmp_path: Path,
) -> None:
    from textual.app import App

    store = MessageStore(tmp_path / "messages.json")
    store.load()
    screen = MessagesScreen(store, "saved hello\n", Mode.TEXT)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test() as pilot:
        await pilot.press("n")
        shown = str(screen.query_one("#messages-status", Static).render())
        assert shown.startswith("Name for 'saved hello\\n")
        assert "\\\\" not in shown


@pytest.mark.asyncio
async def test_the_connect_button_shows_disconnect_whole() -> None:
    """A tab opened with F6 and connected with F8: nothing else relays the row out."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = WorkbenchApp()
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f6")
            await wait_until(pilot, lambda: app.active_session() is not None, "a tab")
            session = app.active_session()
            assert session is not None
            session.query_one(".client-port", Input).value = str(port)
            await pilot.press("f8")
            await wait_until(pilot, lambda: session.view is not None and session.view.alive, "up")
            button = session.query_one(".connect", Button)
            await wait_until(pilot, lambda: str(button.label) == "Disconnect", "the label")
            await pilot.pause()
            assert button.content_region.width >= len("Disconnect")
    finally:
        server.close()
        await server.wait_closed()


def test_recordings_are_ignored_but_the_samples_stay_tracked() -> None:
    def ignored(path: str) -> bool:
        check = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        return check.returncode == 0

    assert ignored("recordings/2026-12-02-session.wbrec")
    assert not ignored("recordings/sample-echo.jsonl")


def test_a_chunk_summary_counts_its_lines_and_bytes_in_words_that_agree() -> None:
    """A chunk one line over the tab's limit ends in '(+1 byte in 1 more line)'."""
    data = b"x\n" * LINES_PER_CHUNK + b"!"
    event = Received(seq=1, mono=0.0, wall=0.0, conn=1, side=Side.CLIENT, data=data)
    assert tab_lines(event)[-1] == "  … (+1 byte in 1 more line)"
