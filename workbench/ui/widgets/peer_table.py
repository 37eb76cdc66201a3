"""The peers table: one virtual row per accepted peer, drawn through the line API.

How this works: ``PeerRows`` (workbench/ui/peer_rows.py) keeps each peer's cell strings and
the columns that fit a width; ``render_line`` draws only the rows on screen from it, so a
thousand peers cost a thousand small tuples, not a thousand rows of measured renderables. Line
0 is the header; the rows scroll below it. The cursor is a row position that follows its peer
when rows above it are forgotten.

Column widths come from the rows when a frame is drawn, so a frame depends on the data and the
width alone. (Textual's DataTable measured cells when it was next idle: a frame drawn before
that showed columns sized to their headers, and a cell updated later was cut to its column's
old width, "95." for "95.4 MiB".)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.ui.model import ConnectionView
from workbench.ui.peer_rows import COLUMNS, Layout, PeerRows


class PeerTable(ScrollView, can_focus=True):
    """Accepted peers, first come first listed, with a row cursor; closed peers stay listed."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False),
        Binding("up", "move(-1)", "Cursor up", show=False),
        Binding("down", "move(1)", "Cursor down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "peer-table--header",
        "peer-table--even-row",
        "peer-table--closed",
        "peer-table--cursor",
    }

    DEFAULT_CSS = """
    PeerTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .peer-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .peer-table--header { background-tint: $foreground 5%; }
        }
        &:dark { & > .peer-table--even-row { background: $surface-darken-1 40%; } }
        & > .peer-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .peer-table--even-row { background: $surface-lighten-1 50%; }
        & > .peer-table--closed { color: $text-muted; }
        & > .peer-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor came to rest on a peer (keys, a click, or the first peer arriving)."""

        def __init__(self, table: PeerTable, conn: int) -> None:
            super().__init__()
            self.table = table
            self.conn = conn

        @property
        def control(self) -> PeerTable:
            return self.table

    class Selected(Highlighted):
        """Enter (or a click on the cursor's row) chose the peer under the cursor."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows = PeerRows()
        self._cursor = 0
        self._styles: dict[str, Style] = {}

    # -- what it shows ------------------------------------------------------------------------

    def show(self, peers: Iterable[ConnectionView], now: float) -> None:
        """Add the peers not listed yet (at the end) and rewrite the rows of the others."""
        was_empty = not self.rows
        changed = False
        for peer in peers:
            changed |= self.rows.put(peer, now)
        if changed:
            self._changed()
        if was_empty and self.rows:
            self.post_message(self.Highlighted(self, self.rows.order[self._cursor]))

    def tick(self, peers: Iterable[ConnectionView], now: float) -> None:
        """The clock moved: only the time-connected column changes."""
        changed = False
        for peer in peers:
            changed |= self.rows.tick(peer, now)
        if changed:
            self._changed()

    def forget(self, conns: Iterable[int]) -> None:
        """Remove these peers' rows; the cursor stays on its peer, or near where it was."""
        cursor_conn = self.cursor_peer
        if not self.rows.forget(conns):
            return
        if cursor_conn is not None and cursor_conn in self.rows:
            self._cursor = self.rows.position(cursor_conn)
        self._cursor = max(0, min(self._cursor, len(self.rows) - 1))
        self._changed()

    def _changed(self) -> None:
        size = Size(0, len(self.rows) + 1)  # the header, then the rows
        if self.virtual_size != size:
            self.virtual_size = size
        self.refresh()

    # -- reading it back (the pane and tests) -------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def peer_ids(self) -> list[int]:
        """Connection ids in the table's order."""
        return list(self.rows.order)

    @property
    def cursor_row(self) -> int | None:
        return self._cursor if self.rows else None

    @property
    def cursor_peer(self) -> int | None:
        return self.rows.order[self._cursor] if self.rows else None

    def get_row_index(self, conn: int) -> int:
        return self.rows.position(conn)

    def get_row(self, conn: int) -> tuple[str, ...]:
        """A peer's cells in full, as the widest table shows them."""
        return self.rows.row(conn).cells

    def get_row_at(self, row: int) -> tuple[str, ...]:
        return self.rows.at(row).cells

    # -- the cursor ---------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on a row (clamped) and scroll it into view."""
        if not self.rows:
            return
        old = self._cursor
        self._cursor = max(0, min(row, len(self.rows) - 1))
        self._scroll_to_cursor()
        if self._cursor != old:
            self.refresh()
            self.post_message(self.Highlighted(self, self.rows.order[self._cursor]))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # below the header
        top = self.scroll_offset.y
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def action_move(self, rows: int) -> None:
        self.move_cursor(row=self._cursor + rows)

    def action_page(self, pages: int) -> None:
        self.action_move(pages * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.rows) - 1)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.rows.order[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return  # the header
        row = self.scroll_offset.y + offset.y - 1
        if row < len(self.rows):
            event.stop()
            if row == self._cursor:
                self.action_select()
            else:
                self.move_cursor(row=row)

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # theme or focus changed

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if name == "base" else self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def layout_for(self, width: int) -> Layout:
        return self.rows.layout(width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self.rows.layout(width)
        if y == 0:
            return self._strip(layout.line(COLUMNS), width, self._style("peer-table--header"))
        row = self.scroll_offset.y + y - 1
        if row >= len(self.rows):
            return Strip.blank(width, self._style("base"))
        return self._strip_for(row, layout, width)

    def row_text(self, row: int, width: int) -> str:
        """A row as plain text, exactly as drawn at ``width`` (for tests)."""
        strip = self._strip_for(row, self.rows.layout(width), width)
        return "".join(segment.text for segment in strip).rstrip()

    def _strip_for(self, row: int, layout: Layout, width: int) -> Strip:
        peer = self.rows.at(row)
        if row == self._cursor:
            style = self._style("peer-table--cursor")
        else:
            style = self._style("peer-table--even-row" if row % 2 == 0 else "base")
            if not peer.alive:
                style += Style(color=self._style("peer-table--closed").color)
        return self._strip(layout.line(peer.shown(layout)), width, style)

    @staticmethod
    def _strip(text: str, width: int, style: Style) -> Strip:
        return Strip([Segment(text, style)]).crop_extend(0, width, style)
