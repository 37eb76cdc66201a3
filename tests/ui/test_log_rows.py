"""What an event log row says, without a screen: every cell escaped, the preview cut to fit."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.ui.helpers import HOSTILE
from workbench.testing import Story
from workbench.ui.event_store import EventStore
from workbench.ui.log_rows import PAUSED, row_cells, subtitle


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_row_shows_time_conn_direction_kind_size_and_the_escaped_payload() -> None:
    story = Story(start=1000.0, step=0.5, wall=1_764_000_000.0)
    story.listening(1)
    story.accepted(2, listener=1)
    event = story.received(2, HOSTILE)
    cells = row_cells(event, 80, hex_mode=False)
    assert [cls for _, cls in cells] == [
        "event-log--time", "event-log--conn", "event-log--recv", None
    ]  # fmt: skip
    text = "".join(text for text, _ in cells)
    assert text.startswith("16:00:01.500  #2    ← recv              24  ")
    assert "\x1b" not in text and "\\x1b[31m[bold red]boom[/]\\0\\xff" in text
    hex_cells = row_cells(event, 6, hex_mode=True)
    assert hex_cells[-1][0].startswith("1b 5b 33")


def test_the_subtitle_counts_what_the_filter_hides_and_says_when_paused() -> None:
    story = Story()
    story.listening(1)
    for conn in (2, 3):
        story.accepted(conn, listener=1)
    store = EventStore(100)
    store.append(story.events)
    assert subtitle(store, following=True) is None
    store.set_filter({2}, None)
    assert subtitle(store, following=False) == f"filter: 1 of 3 · {PAUSED}"
