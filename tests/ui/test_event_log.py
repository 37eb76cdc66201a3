"""The event log widget driven through Textual's Pilot: rows, safety, following and the payload."""

from __future__ import annotations

import pytest
from textual.widgets import Static, TextArea

from tests.ui.helpers import HOSTILE, LOCAL, REMOTE, LogApp, received
from workbench.describe import clock
from workbench.events import Address, Closed, Closer, Error, Event, Sent, Side
from workbench.ui.log_rows import PAUSED
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.widgets.event_log import EventLog


def many(start: int, count: int) -> list[Event]:
    return [received(seq, f"message {seq}".encode()) for seq in range(start, start + count)]


def rows(log: EventLog) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


@pytest.mark.asyncio
async def test_rows_show_time_conn_direction_kind_size_and_preview() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        sent = Sent(
            seq=2, mono=0.0, wall=1.7e9, conn=7, side=Side.CLIENT, local=LOCAL, data=b"ping\r\n"
        )
        refused = Error(
            seq=3,
            mono=0.0,
            wall=1.7e9,
            conn=8,
            side=Side.CLIENT,
            remote=REMOTE,
            operation="connect",
            errno=111,
            message="refused",
            hint="nothing is listening on 127.0.0.1:40000",
        )
        closed = Closed(seq=4, mono=0.0, wall=1.7e9, conn=2, side=Side.PEER, by=Closer.PEER_RESET)
        log.add_events([received(1), sent, refused, closed])
        await pilot.pause()

        first, second, third, fourth = rows(log)[:4]
        assert first.startswith(f"{clock(1_700_000_001.0)}  #2")
        assert "← recv" in first and first.endswith("5  hello")
        assert "→ send" in second and second.endswith("6  ping\\r\\n")
        assert "· error" in third and "refused — nothing is listening on 127.0.0.1:40000" in third
        assert fourth.endswith("· close       RST by peer")


@pytest.mark.asyncio
async def test_hostile_bytes_show_literally_escaped() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        evil_host = Address("\x1b]0;pwned\x07[b]x[/b]", 1)
        closed = Closed(
            seq=2, mono=0.0, wall=1.7e9, conn=2, side=Side.PEER, remote=evil_host, by=Closer.PEER
        )
        log.add_events([received(1, HOSTILE), closed])
        await pilot.pause()
        payload_row, closed_row = rows(log)[:2]
        assert payload_row.endswith("\\x1b[31m[bold red]boom[/]\\0\\xff")
        assert "\\x1b]0;pwned\\x07[b]x[/b]:1" in closed_row
        for y, row in enumerate((payload_row, closed_row)):
            assert row.isprintable()
            assert not any(segment.control for segment in log.render_line(y))


@pytest.mark.asyncio
async def test_x_toggles_hex_previews() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events([received(1, b"hi!")])
        await pilot.pause()
        await pilot.press("x")
        assert rows(log)[0].endswith("68 69 21")
        await pilot.press("x")
        assert rows(log)[0].endswith("hi!")


@pytest.mark.asyncio
async def test_follows_the_end_pauses_when_scrolled_up_and_resumes_with_end() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(many(0, 500))
        await pilot.pause()
        assert log.following and log.is_vertical_scroll_end
        assert rows(log)[-1].endswith("message 499")

        log.scroll_home(animate=False)
        await pilot.pause()
        assert not log.following and log.border_subtitle == PAUSED
        log.add_events(many(500, 100))
        await pilot.pause()
        assert log.scroll_y == 0 and rows(log)[0].endswith("message 0")

        await pilot.press("end")
        assert log.following and log.border_subtitle is None
        log.add_events(many(600, 10))
        await pilot.pause()
        assert log.is_vertical_scroll_end and rows(log)[-1].endswith("message 609")
        assert log.cursor_event is not None and log.cursor_event.seq == 609


@pytest.mark.asyncio
async def test_moving_the_cursor_up_pauses_and_g_resumes() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(many(0, 100))
        await pilot.pause()
        await pilot.press("up", "pageup")
        assert not log.following
        top = log.scroll_y
        log.add_events(many(100, 50))
        await pilot.pause()
        assert log.scroll_y == top
        await pilot.press("G")
        assert log.following and log.cursor_row == 149


@pytest.mark.asyncio
async def test_paused_view_stays_on_its_rows_while_the_oldest_fall_off() -> None:
    app = LogApp(cap=200)
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(many(0, 200))
        await pilot.pause()
        log.scroll_to(y=50, animate=False)
        await pilot.pause()
        reading = rows(log)
        log.add_events(many(200, 20))
        await pilot.pause()
        assert log.store.dropped == 20 and log.scroll_y == 30
        assert rows(log) == reading


@pytest.mark.asyncio
async def test_enter_posts_selected_and_opens_the_payload() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events([received(1, b"first"), received(2, HOSTILE + b"\nline two")])
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.messages[0], EventLog.Selected)
        assert app.messages[0].event.seq == 2
        assert isinstance(app.screen, PayloadScreen)
        text = app.screen.query_one("#payload-text", TextArea).text
        assert text == "\\x1b[31m[bold red]boom[/]\\0\\xff\\n\nline two"
        hex_text = app.screen.query_one("#payload-hex", TextArea).text
        assert hex_text.startswith("00000000  1b 5b 33 31")
        await pilot.press("escape")
        assert not isinstance(app.screen, PayloadScreen)


@pytest.mark.asyncio
async def test_click_moves_the_cursor_and_double_click_selects() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(many(0, 5))
        await pilot.pause()
        await pilot.click(EventLog, offset=(20, 3))  # border row, then rows 0, 1, 2
        assert log.cursor_row == 2 and not log.following
        await pilot.click(EventLog, offset=(20, 2), times=2)
        await pilot.pause()
        assert isinstance(app.screen, PayloadScreen)
        assert app.screen.event.seq == 1


@pytest.mark.asyncio
async def test_filters_narrow_rows_and_f_asks_the_app_for_a_dialog() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events([received(seq, b"x", conn=seq % 3) for seq in range(30)])
        await pilot.pause()
        log.set_filter({1}, None)
        await pilot.pause()
        assert all("#1 " in row for row in rows(log)[:10])
        assert log.border_subtitle == "filter: 10 of 30"
        log.set_search("#4")
        await pilot.pause()
        assert rows(log)[0] == "" and log.cursor_row is None
        log.set_filter(None, None)
        log.set_search("")
        await pilot.press("f")
        assert isinstance(app.messages[-1], EventLog.FilterRequested)


@pytest.mark.asyncio
async def test_a_ten_megabyte_payload_renders_and_opens_quickly() -> None:
    app = LogApp()
    huge = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events([received(1, huge)])
        await pilot.pause()
        assert "10,485,760" in rows(log)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PayloadScreen)
        note = app.screen.query_one("#payload-note", Static)
        assert str(note.render()).startswith("bytes 0–65,535 of 10,485,760  ·  page 1 of 160")
        hex_lines = app.screen.query_one("#payload-hex", TextArea).document.line_count
        assert hex_lines == 64 * 1024 // 16


@pytest.mark.asyncio
async def test_cached_rows_follow_a_theme_change() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(EventLog)
        log.add_events([received(1), received(2)])
        await pilot.pause()
        before = log.render_line(0)  # not the cursor row, so it comes from the cache
        assert log.render_line(0) is before
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        after = log.render_line(0)
        assert after.text == before.text
        assert [seg.style for seg in after] != [seg.style for seg in before]
