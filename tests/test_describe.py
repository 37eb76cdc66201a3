"""One vocabulary: every event kind, closer and state has one name, used wherever it is shown.

``workbench.describe`` is where events become words; these tests hold the words themselves and
check that the event log, ``workbench show``, the model (peers table, client tabs) and the help
screen say the same thing for the same events.
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from workbench.describe import (
    CLOSER_WORDS,
    KIND_MEANINGS,
    SHORT_STATES,
    clean,
    closed_state,
    detail,
    payload_of,
    short_state,
    tab_lines,
    with_hint,
)
from workbench.events import EVENT_TYPES, Address, Closer, Event, Side
from workbench.recording.format import new_header
from workbench.recording.transcript import transcript_lines
from workbench.testing import CLIENT, SERVER, Story
from workbench.themes import event_variable_defaults
from workbench.ui.model import SessionModel
from workbench.ui.peer_rows import peer_row
from workbench.ui.screens.help import PRIMER
from workbench.ui.widgets.event_log import EventLog

HEADER = new_header(started_wall=1.7e9, started_mono=1000.0)


def one_of_each() -> dict[str, Event]:
    """A short session with one event of every kind, by kind."""
    story = Story()
    events = [
        story.listening(1, backlog=5),
        story.accepted(2, listener=1),
        story.received(2, b"hi"),
        story.sent(2, b"ho"),
        story.peer_eof(2),
        story.half_closed(2),
        story.closed(2, Closer.PEER),
        story.connecting(3),
        story.connected(3),
        story.error(3, "send", "Broken pipe", "the peer is gone"),
        story.stopped(1),
    ]
    return {event.kind: event for event in events}


EXPECTED = {
    "listen": f"on {SERVER}  backlog 5",
    "accept": f"{CLIENT} → {SERVER}  via listener #1",
    "eof": "FIN by peer",
    "shutdown": "FIN by us",
    "close": "FIN by peer",
    "connecting": f"to {SERVER}  timeout 10 s",
    "connect": f"{CLIENT} ⇄ {SERVER}",
    "error": "send: Broken pipe — the peer is gone",
    "stop": f"no longer listening on {SERVER}",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_event_kind_reads_as_its_words(kind: str) -> None:
    assert detail(one_of_each()[kind]) == EXPECTED[kind]


@pytest.mark.parametrize(("kind", "line"), [("send", "→ ho"), ("recv", "← hi")])
def test_bytes_read_as_an_arrow_and_the_escaped_bytes_in_a_tab(kind: str, line: str) -> None:
    event = one_of_each()[kind]
    assert payload_of(event) is not None and tab_lines(event) == [line]


def test_every_event_kind_is_named_by_its_stored_kind_and_explained_in_the_help() -> None:
    assert set(KIND_MEANINGS) == set(EVENT_TYPES) == set(one_of_each())
    for kind, meaning in KIND_MEANINGS.items():
        assert f"- **{kind}**: {meaning}" in PRIMER


def test_the_closers_are_named_in_tcp_terms_and_closed_states_carry_them() -> None:
    assert CLOSER_WORDS == {
        Closer.LOCAL: "FIN by us",
        Closer.LOCAL_RESET: "RST by us",
        Closer.PEER: "FIN by peer",
        Closer.PEER_RESET: "RST by peer",
    }
    assert [closed_state(by) for by in Closer] == [f"closed ({CLOSER_WORDS[by]})" for by in Closer]
    assert all(words in PRIMER for words in CLOSER_WORDS.values())
    assert short_state("open") == "open" and short_state("half-closed (FIN by peer)") == (
        "FIN by peer"
    )
    assert all(len(short) < len(long) for long, short in SHORT_STATES.items())


HOSTILE = [
    "bad \x1b[31mred\x07",  # ESC, BEL
    "\x9b hint",  # C1 CSI
    "abc\u202edef",  # bidi override
    "\u2066isolate\u2069",  # bidi isolates
    "bytes \udcff\udc80",  # undecodable bytes (surrogateescape)
    "lone \ud800",  # a surrogate no OS string holds: shown, never a crash
]


@pytest.mark.parametrize("text", HOSTILE)
def test_engine_text_is_escaped_never_passed_through(text: str) -> None:
    shown = clean(text)
    assert shown.isprintable(), shown
    assert not any(char in shown for char in "\x1b\x07\x9b\u202e\u2066\u2069")
    assert "\\x" in shown


def test_escapes_read_as_the_bytes_they_stand_for() -> None:
    assert clean("bad \x1b[31mred") == "bad \\x1b[31mred"
    assert clean("abc\u202edef") == "abc\\xe2\\x80\\xaedef"
    assert clean("bytes \udcff") == "bytes \\xff"
    assert clean("plain café") == "plain café"


def test_markup_in_engine_text_stays_text() -> None:
    """Square brackets are not escaped: every consumer shows them through ``Text`` (never
    markup), so they read as typed."""
    markup = "[bold red]boom[/] [link=http://x]y[/link]"
    assert clean(markup) == markup
    assert Text(clean(markup)).plain == markup
    assert with_hint(markup, "\x1b]0;owned\x07") == f"{markup} — \\x1b]0;owned\\x07"


def test_hostile_text_in_every_field_of_an_event_is_escaped_in_its_words() -> None:
    evil = Address("evil\x1b]0;owned\x07\u202e", 5000)
    story = Story()
    events = [
        story.listening(1, local=evil),
        story.accepted(2, listener=1, local=evil, remote=evil),
        story.connecting(3, remote=evil),
        story.connected(3, remote=evil, local=evil),
        story.error(3, "se\x1bnd", "bad \x1b[31mred", "\x9b hint"),
        story.stopped(1, local=evil),
    ]
    for event in events:
        words = detail(event)
        assert not any(char in words for char in "\x1b\x07\x9b\u202e"), words


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return event_variable_defaults(self.current_theme)


@pytest.mark.asyncio
async def test_log_rows_show_and_model_use_the_same_closer_words() -> None:
    """For the same closes, the event log's rows, ``workbench show``'s lines, the model's
    states (peers table, client tabs) and the peers table's cells all name the closer alike."""
    story = Story()
    story.listening(1)
    for conn, by in enumerate(Closer, start=2):
        story.accepted(conn, listener=1)
        story.closed(conn, by)
    model = SessionModel()
    model.apply(story.events)
    shown = list(transcript_lines(HEADER, story.events, hex=False))
    app = LogApp()
    async with app.run_test(size=(160, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(story.events)
        await pilot.pause()
        rows = [log.row_text(row) for row in range(log.store.visible_count)]
    for conn, by in enumerate(Closer, start=2):
        words = CLOSER_WORDS[by]
        [row] = [r for r in rows if f"#{conn} " in r and "close" in r]
        assert row.endswith(f"· close       {words}"), row
        [line] = [line for line in shown if f"#{conn} " in line and "close" in line]
        assert line.endswith(f"peer      close  {words}"), line
        view = model.connections[conn]
        assert view.side is Side.PEER and view.state == f"closed ({words})"
        assert peer_row(view, 2000.0).cells[-1] == f"closed ({words})"


@pytest.mark.asyncio
async def test_half_closed_words_match_between_log_show_and_model() -> None:
    story = Story()
    story.listening(1)
    story.accepted(2, listener=1)
    story.peer_eof(2)
    story.accepted(3, listener=1)
    story.half_closed(3)
    model = SessionModel()
    model.apply(story.events)
    assert model.connections[2].state == "half-closed (FIN by peer)"
    assert model.connections[3].state == "half-closed (FIN by us)"
    shown = list(transcript_lines(HEADER, story.events, hex=False))
    assert shown[-3].endswith("eof  FIN by peer") and shown[-1].endswith("shutdown  FIN by us")
    app = LogApp()
    async with app.run_test(size=(160, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(story.events)
        await pilot.pause()
        assert log.row_text(2).endswith("· eof         FIN by peer")
        assert log.row_text(4).endswith("· shutdown    FIN by us")
