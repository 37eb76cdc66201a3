"""The peers table at scale: a thousand peers cost one screen of rows, and cells keep their units.

The app is fed fixed engine events (as the snapshot tests are), so the model, the server pane
and the table run their real path; the table's own drawing is watched through ``render_line``,
which is what the compositor calls for every line of a frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from rich.style import Style
from textual.strip import Strip

from tests.ui.helpers import wait_until
from workbench.describe import SHORT_STATES
from workbench.events import Accepted, Address, Closed, Closer, Event, Listening, Side
from workbench.ui.app import WorkbenchApp
from workbench.ui.bridge import EngineEvents
from workbench.ui.model import ConnectionView
from workbench.ui.peer_rows import COLUMNS, STATE, PeerRows, peer_row
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.peer_table import PeerTable
from workbench.ui.widgets.server_pane import ServerPane

SERVER = Address("127.0.0.1", 5000)
CROWD = 1_000
NOW = 10_000.0
WIDTHS = (40, 60, 80, 120)
NUMBER = r"\d+(\.\d)? (B|KiB|MiB|GiB|TiB)|\d+s|\d+m\d\ds|\d+h\d\dm"


def crowd(count: int = CROWD, closed: int = 0) -> list[Event]:
    """Listening, then ``count`` peers accepted (ids 2…), the first ``closed`` of them closed."""
    events: list[Event] = [
        Listening(seq=1, mono=1.0, wall=1.0, conn=1, side=Side.LISTENER, local=SERVER, backlog=9)
    ]
    for conn in range(2, count + 2):
        remote = Address("127.0.0.1", 30_000 + conn)
        common = {"conn": conn, "side": Side.PEER, "local": SERVER, "remote": remote}
        events.append(Accepted(seq=conn, mono=2.0, wall=2.0, listener=1, **common))  # type: ignore[arg-type]
        if conn < closed + 2:
            events.append(Closed(seq=conn, mono=3.0, wall=3.0, by=Closer.PEER, **common))  # type: ignore[arg-type]
    return events


async def fed(app: WorkbenchApp, pilot, events: list[Event]) -> PeerTable:  # type: ignore[no-untyped-def]
    app.server.listener_id = 1
    app.post_message(EngineEvents(events))
    table = app.query_one("#peers", PeerTable)
    wanted = sum(isinstance(event, Accepted) for event in events)
    await wait_until(pilot, lambda: table.row_count == wanted, "every peer listed")
    await pilot.pause()
    return table


def watch_lines(table: PeerTable) -> list[tuple[int, Strip]]:
    """Record every line the compositor asks the table for, with what it drew."""
    drawn: list[tuple[int, Strip]] = []
    draw: Callable[[int], Strip] = table.render_line

    def recording(y: int) -> Strip:
        strip = draw(y)
        drawn.append((y, strip))
        return strip

    table.render_line = recording  # type: ignore[method-assign]
    return drawn


def text(strip: Strip) -> str:
    return "".join(segment.text for segment in strip)


def background(strip: Strip) -> object:
    styles = {segment.style.bgcolor for segment in strip if segment.style is not None}
    assert len(styles) == 1, "a row is drawn in one style"
    return styles.pop()


@pytest.mark.asyncio
async def test_a_thousand_peers_draw_only_the_rows_on_screen_in_each_frame() -> None:
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await fed(app, pilot, crowd())
        assert table.row_count == CROWD and table.peer_ids[:2] == [2, 3]
        drawn = watch_lines(table)
        table.focus()
        for key in ("down", "pagedown", "end", "up", "home"):
            drawn.clear()
            await pilot.press(key)
            await pilot.pause()
            height = table.scrollable_content_region.height
            assert drawn, f"{key}: the frame redrew the table"
            assert all(0 <= y < height for y, _ in drawn), "only lines on screen are drawn"
            assert len(drawn) <= 2 * height, f"{key}: {len(drawn)} lines for {height} on screen"
        drawn.clear()
        app.server.tick()  # the clock's tick with the clock standing still, and a batch of nothing
        app.query_one(ServerPane).show_peers([], NOW)
        await pilot.pause()
        assert drawn == [], "nothing changed, nothing redrawn"


@pytest.mark.asyncio
async def test_a_key_moves_the_cursor_and_the_next_frame_shows_it_and_targets_that_peer() -> None:
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await fed(app, pilot, crowd())
        table.focus()
        await pilot.pause()
        drawn = watch_lines(table)
        cursor = table.get_component_rich_style("peer-table--cursor")
        await pilot.press("down", "down")
        await pilot.pause()
        assert table.cursor_peer == 4
        lines = dict(drawn)
        assert text(lines[3]).split()[0] == "#4", "line 3: header, #2, #3, then #4"
        assert background(lines[3]) == cursor.bgcolor, "the frame shows the cursor on #4"
        assert background(lines[1]) != cursor.bgcolor, "and no longer on #2"
        composer = app.query_one(Composer)
        assert composer.target_label.startswith("→ peer #4 ")

        drawn.clear()
        await pilot.press("end")  # far below: the table scrolls so the cursor's row shows
        await pilot.pause()
        last = max(y for y, _ in drawn)
        assert text(dict(drawn)[last]).split()[0] == f"#{CROWD + 1}"
        assert background(dict(drawn)[last]) == cursor.bgcolor
        await pilot.press("enter")
        assert composer.target_label.startswith(f"→ peer #{CROWD + 1} ")


@pytest.mark.asyncio
async def test_a_click_moves_the_cursor_and_a_second_click_chooses_the_peer() -> None:
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await fed(app, pilot, crowd(20))
        await pilot.click(PeerTable, offset=(3, 0))  # the header: nothing happens
        assert table.cursor_peer == 2
        await pilot.click(PeerTable, offset=(3, 3))
        assert table.cursor_peer == 4
        await pilot.click(PeerTable, offset=(3, 3))
        assert app.query_one(Composer).target_label.startswith("→ peer #4 ")


def big_peers() -> list[ConnectionView]:
    """Peers whose cells are as wide as they get: MiB counts, long states, an IPv6 address."""
    views = []
    for conn, (bytes_in, bytes_out, state, pending) in enumerate(
        [
            (100_030_000, 2_200_000, "open", 0),
            (512, 95_400 * 1024 * 1024, "open", 129_400_000),  # behind: 123.4 MiB waiting
            (10_240, 0, "closed (FIN by peer)", 0),
            (3 * 1024**3, 10_239, "half-closed (FIN by peer)", 0),
        ],
        start=2,
    ):
        remote = Address("::1", 40_000 + conn) if conn == 5 else Address("127.0.0.1", 40_000 + conn)
        view = ConnectionView(conn, Side.PEER, remote, SERVER, listener=1, state=state)
        view.bytes_in, view.bytes_out, view.pending = bytes_in, bytes_out, pending
        view.opened_at = NOW - 3_725 * conn
        if state.startswith("closed"):
            view.closed_at = NOW - 5
        views.append(view)
    return views


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.asyncio
async def test_cells_are_whole_at_every_width_and_numbers_keep_their_units(width: int) -> None:
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(width, 30)) as pilot:
        table = app.query_one("#peers", PeerTable)
        peers = big_peers()
        table.show(peers, NOW)
        await pilot.pause()
        room = table.scrollable_content_region.width
        header = table.render_line(0)
        assert header.cell_length == room, "the header fills the table, no wider"
        shown = text(header).split()
        assert shown == [c for c in COLUMNS if c in shown] and shown[:2] == ["id", "remote"]
        if width >= 120:  # the least important go first: the time, then the bytes sent
            assert shown == ["id", "remote", "in", "state"]
        for y, peer in enumerate(peers, start=1):
            strip = table.render_line(y)
            assert strip.cell_length == room, "no row runs past the table's edge"
            cells = re.split(r" {2,}", text(strip).strip())
            whole = {*table.get_row(peer.id), peer_row(peer, NOW).short_state}
            assert len(cells) == len(shown), f"{width}: one cell per shown column: {cells}"
            assert set(cells) <= whole, f"{width}: every cell drawn whole: {cells}"
            for cell in cells:
                if cell[0].isdigit() and ":" not in cell:  # a count or a time, not an address
                    assert re.fullmatch(NUMBER, cell), f"{width}: {cell!r} without its unit"


@pytest.mark.asyncio
async def test_a_cell_that_grows_is_drawn_whole_in_the_very_next_frame() -> None:
    """DataTable kept a column's width until it idled, cutting '95.4 MiB' to '95.'."""
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#peers", PeerTable)
        [peer] = big_peers()[:1]
        peer.bytes_in = 0
        table.show([peer], NOW)
        await pilot.pause()
        assert "  0 B  " in text(table.render_line(1))
        peer.bytes_in = 95_400 * 1024 * 1024 // 1000
        table.show([peer], NOW)
        assert " 95.4 MiB " in text(table.render_line(1)), "no idle needed in between"


@pytest.mark.asyncio
async def test_the_layout_depends_on_the_rows_alone_not_on_how_or_when_they_arrived() -> None:
    """The cause of the flaky traffic snapshot: column widths measured whenever the table idled."""
    drawings = []
    for batches in ([crowd(30, closed=10)], [crowd(30)[:5], crowd(30, closed=10)]):
        app = WorkbenchApp(clock=lambda: NOW)
        async with app.run_test(size=(100, 30)) as pilot:
            for batch in batches:
                table = await fed(app, pilot, batch)
            drawings.append([text(table.render_line(y)) for y in range(12)])
    assert drawings[0] == drawings[1]
    assert "#2" in drawings[0][1] and "closed" in drawings[0][1]


@pytest.mark.asyncio
async def test_closed_peers_stay_in_their_place_and_muted_while_open_ones_tick() -> None:
    now = [NOW]
    app = WorkbenchApp(clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        table = await fed(app, pilot, crowd(5, closed=2))
        assert table.peer_ids == [2, 3, 4, 5, 6]
        muted = Style(color=table.get_component_rich_style("peer-table--closed").color)
        assert table.render_line(2).text.split()[0] == "#3"
        assert all(s.style and s.style.color == muted.color for s in table.render_line(2))
        assert table.get_row(3)[COLUMNS.index("for")] == "1s"  # closed: its time stands still
        now[0] = 2.0 + 125  # open peers were accepted at mono 2.0
        await wait_until(pilot, lambda: table.get_row(6)[2] == "2m05s", "the clock's tick")
        assert table.get_row(3)[2] == "1s"


@pytest.mark.asyncio
async def test_a_column_narrows_again_when_its_widest_cell_leaves_or_shrinks() -> None:
    app = WorkbenchApp(clock=lambda: NOW)
    async with app.run_test(size=(240, 30)) as pilot:
        table = app.query_one("#peers", PeerTable)
        peers = big_peers()
        table.show(peers, NOW)
        await pilot.pause()
        room = table.scrollable_content_region.width
        widths = lambda: dict(table.layout_for(room).columns)  # noqa: E731
        assert "behind (123.4 MiB waiting)" in text(table.render_line(2))
        assert widths()[COLUMNS.index("state")] == len("behind (123.4 MiB waiting)")
        peers[1].pending = 0  # it caught up: the state column needs only "open" now
        table.show([peers[1]], NOW)
        table.forget([peers[0].id])  # the 95.4 MiB row goes
        assert widths()[COLUMNS.index("state")] == len("half-closed (FIN by peer)")
        assert text(table.render_line(1)).split()[:2] == ["#3", "127.0.0.1:40003"]
        assert table.layout_for(200) == table.layout_for(200)  # same rows, same layout
        fresh = PeerRows()
        for peer in peers[1:]:  # the same rows from scratch measure the same
            fresh.put(peer, NOW)
        assert fresh.widths() == table.rows.widths()


def test_narrowing_shortens_the_state_then_drops_time_bytes_sent_received_state_and_remote() -> (
    None
):
    rows = PeerRows()
    for peer in big_peers():
        rows.put(peer, NOW)
    seen = []
    for width in range(120, 0, -1):
        layout = rows.layout(width)
        assert sum(w + 2 for _, w in layout.columns) <= width or len(layout.columns) == 1
        names = tuple(COLUMNS[i] for i, _ in layout.columns)
        if not seen or seen[-1] != (names, layout.short_state):
            seen.append((names, layout.short_state))
    every = ("id", "remote", "for", "in", "out", "state")
    assert seen == [
        (every, False),
        (every, True),  # "behind (123.4 MiB waiting)" becomes "behind"
        (("id", "remote", "in", "out", "state"), True),
        (("id", "remote", "in", "state"), True),
        (("id", "remote", "state"), True),
        (("id", "remote"), True),
        (("id",), True),
    ]


def test_the_state_regains_its_long_form_when_dropping_a_column_made_room_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The model's short states are the closers' words or "closed"/"reset", 14 cells or more
    narrower than the long ones, more than a dropped number column frees: a short form 8 cells
    narrower stands in for them, so the layout's promise is still checked."""
    monkeypatch.setitem(SHORT_STATES, "closed (FIN by peer)", "closed (FIN)")
    rows = PeerRows()
    for peer in big_peers():
        if peer.id not in (3, 5):  # without "behind" and the half-closed peer
            rows.put(peer, NOW)
    assert rows.layout(54).short_state
    assert rows.layout(53).columns == (
        (0, 2),
        (1, 15),
        (3, 8),
        (STATE, len("closed (FIN by peer)")),
    )
