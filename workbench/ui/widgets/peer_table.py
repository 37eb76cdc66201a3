"""The peers table: one virtual row per accepted peer, drawn through the line API.

How this works: the table keeps, per peer, the strings its cells show, rewritten only for the
peers that changed (and, on the clock's tick, the time-connected column). ``render_line`` draws
only the rows on screen, so a thousand peers cost a thousand small tuples, not a thousand rows
of measured renderables. Line 0 is the header; the rows scroll below it.

Column widths are computed from every row's strings when a frame is drawn, so what a frame
shows depends on the data and the width alone. (Textual's DataTable measured cells when it was
next idle: a frame drawn before that showed columns sized to their headers, and a cell updated
later was cut to its column's old width, "95." for "95.4 MiB".) When the columns do not fit, the
least important are shortened or dropped whole (``SHRINK``): a number never loses its unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.ui.model import ConnectionView, human_bytes, human_duration

COLUMNS = ("id", "remote", "for", "in", "out", "state")
FOR, STATE = COLUMNS.index("for"), COLUMNS.index("state")
RIGHT_ALIGNED = frozenset({FOR, COLUMNS.index("in"), COLUMNS.index("out")})
PAD = 1
"""Blank cells on each side of every column, as DataTable draws them."""

SHRINK: tuple[tuple[Literal["drop", "short"], str], ...] = (
    ("drop", "for"),
    ("short", "state"),
    ("drop", "out"),
    ("drop", "in"),
    ("drop", "state"),
    ("drop", "remote"),
)
"""What goes first when the columns are wider than the table; the id column always stays."""

SHORT_STATES = {
    "peer done sending": "peer done",
    "we are done sending": "we're done",
    "closed by us": "closed",
    "closed by peer": "closed",
    "reset by us": "reset",
    "reset by peer": "reset",
}


@dataclass(slots=True)
class PeerRow:
    """What one peer's row shows: a string per column, and a shorter state for narrow tables."""

    conn: int
    cells: tuple[str, ...]
    short_state: str
    alive: bool


def peer_row(peer: ConnectionView, now: float) -> PeerRow:
    if peer.backlog_note:
        state, short = f"behind ({human_bytes(peer.pending)} waiting)", "behind"
    else:
        state, short = peer.state, SHORT_STATES.get(peer.state, peer.state)
    cells = (
        f"#{peer.id}",
        str(peer.remote),
        human_duration(peer.duration(now)),
        human_bytes(peer.bytes_in),
        human_bytes(peer.bytes_out),
        state,
    )
    return PeerRow(peer.id, cells, short, peer.alive)


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns drawn at one width: (column index, width) in order, and the state's form."""

    columns: tuple[tuple[int, int], ...]
    short_state: bool


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
        self._rows: dict[int, PeerRow] = {}  # insertion order is the table's order
        self._order: list[int] = []
        self._index: dict[int, int] | None = None  # conn → row, rebuilt when rows go
        self._cursor = 0
        # How many rows have each width, per column then the short state: the widest is one
        # look away, and a row's change costs its own cells, not a pass over every row.
        self._width_counts: list[Counter[int]] = [Counter() for _ in range(len(COLUMNS) + 1)]
        self._widths: list[int] | None = None
        self._layout: tuple[int, Layout] | None = None
        self._styles: dict[str, Style] = {}

    # -- what it shows ------------------------------------------------------------------------

    def show(self, peers: Iterable[ConnectionView], now: float) -> None:
        """Add the peers not listed yet (at the end) and rewrite the rows of the others."""
        was_empty = not self._order
        for peer in peers:
            old = self._rows.get(peer.id)
            if old is None:
                self._order.append(peer.id)
                if self._index is not None:
                    self._index[peer.id] = len(self._order) - 1
            self._set_row(peer.id, old, peer_row(peer, now))
        self._changed()
        if was_empty and self._order:
            self.post_message(self.Highlighted(self, self._order[self._cursor]))

    def tick(self, peers: Iterable[ConnectionView], now: float) -> None:
        """The clock moved: only the time-connected column changes."""
        for peer in peers:
            row = self._rows.get(peer.id)
            if row is not None:
                duration = human_duration(peer.duration(now))
                if row.cells[FOR] != duration:
                    cells = (*row.cells[:FOR], duration, *row.cells[FOR + 1 :])
                    self._set_row(
                        peer.id, row, PeerRow(row.conn, cells, row.short_state, row.alive)
                    )
        self._changed()

    def forget(self, conns: Iterable[int]) -> None:
        """Remove these peers' rows; the cursor stays on its peer, or near where it was."""
        doomed = {conn for conn in conns if conn in self._rows}
        if not doomed:
            return
        cursor_conn = self.cursor_peer
        for conn in doomed:
            self._set_row(conn, self._rows[conn], None)
        self._order = list(self._rows)
        self._index = None
        if cursor_conn is not None and cursor_conn in self._rows:
            self._cursor = self.get_row_index(cursor_conn)
        self._cursor = max(0, min(self._cursor, len(self._order) - 1))
        self._changed()

    def _set_row(self, conn: int, old: PeerRow | None, new: PeerRow | None) -> None:
        """Replace (or add, or with None remove) a row, keeping the width counts."""
        for row, step in ((old, -1), (new, 1)):
            if row is None:
                continue
            for counts, cell in zip(self._width_counts, (*row.cells, row.short_state), strict=True):
                width = cell_len(cell)
                counts[width] += step
                if not counts[width]:
                    del counts[width]
        if new is None:
            del self._rows[conn]
        else:
            self._rows[conn] = new

    def _changed(self) -> None:
        self._widths = None
        self._layout = None
        size = Size(0, len(self._order) + 1)  # the header, then the rows
        if self.virtual_size != size:
            self.virtual_size = size
        self.refresh()

    # -- reading it back (the pane and tests) -------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def peer_ids(self) -> list[int]:
        """Connection ids in the table's order."""
        return list(self._order)

    @property
    def cursor_row(self) -> int | None:
        return self._cursor if self._order else None

    @property
    def cursor_peer(self) -> int | None:
        return self._order[self._cursor] if self._order else None

    def get_row_index(self, conn: int) -> int:
        if self._index is None:
            self._index = {key: row for row, key in enumerate(self._order)}
        return self._index[conn]

    def get_row(self, conn: int) -> tuple[str, ...]:
        """A peer's cells in full, as the widest table shows them."""
        return self._rows[conn].cells

    def get_row_at(self, row: int) -> tuple[str, ...]:
        return self.get_row(self._order[row])

    # -- the cursor ---------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on a row (clamped) and scroll it into view."""
        if not self._order:
            return
        old = self._cursor
        self._cursor = max(0, min(row, len(self._order) - 1))
        self._scroll_to_cursor()
        if self._cursor != old:
            self.refresh()
            self.post_message(self.Highlighted(self, self._order[self._cursor]))

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
        self.move_cursor(row=len(self._order) - 1)

    def action_select(self) -> None:
        if self._order:
            self.post_message(self.Selected(self, self._order[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return  # the header
        row = self.scroll_offset.y + offset.y - 1
        if row < len(self._order):
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
        """The columns that fit in ``width`` cells, shortened and dropped by ``SHRINK``."""
        if self._layout is not None and self._layout[0] == width:
            return self._layout[1]
        widths = self._column_widths()
        shown = list(range(len(COLUMNS)))
        short = False

        def total() -> int:
            state = widths[-1] if short else widths[STATE]
            return sum((state if i == STATE else widths[i]) + 2 * PAD for i in shown)

        def apply(kind: str, name: str, undo: bool = False) -> None:
            nonlocal short
            if kind == "short":
                short = not undo
            elif undo:
                shown.append(COLUMNS.index(name))
                shown.sort()
            else:
                shown.remove(COLUMNS.index(name))

        applied = []
        for kind, name in SHRINK:
            if total() <= width:
                break
            apply(kind, name)
            applied.append((kind, name))
        for kind, name in reversed(applied[:-1]):  # give back what fits after the last step
            apply(kind, name, undo=True)
            if total() > width:
                apply(kind, name)
        state_width = widths[-1] if short else widths[STATE]
        columns = tuple((i, state_width if i == STATE else widths[i]) for i in shown)
        layout = Layout(columns, short)
        self._layout = (width, layout)
        return layout

    def _column_widths(self) -> list[int]:
        """Each column's widest cell or header, then the short state's, over every row."""
        if self._widths is None:
            labels = (*COLUMNS, COLUMNS[STATE])
            self._widths = [
                max(cell_len(label), max(counts, default=0))
                for label, counts in zip(labels, self._width_counts, strict=True)
            ]
        return self._widths

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self.layout_for(width)
        if y == 0:
            style = self._style("peer-table--header")
            return self._strip(COLUMNS, layout, width, style)
        row = self.scroll_offset.y + y - 1
        if row >= len(self._order):
            return Strip.blank(width, self._style("base"))
        return self._strip_for(row, layout, width)

    def row_text(self, row: int, width: int) -> str:
        """A row as plain text, exactly as drawn at ``width`` (for tests)."""
        strip = self._strip_for(row, self.layout_for(width), width)
        return "".join(segment.text for segment in strip).rstrip()

    def _strip_for(self, row: int, layout: Layout, width: int) -> Strip:
        peer = self._rows[self._order[row]]
        if row == self._cursor:
            style = self._style("peer-table--cursor")
        else:
            style = self._style("peer-table--even-row" if row % 2 == 0 else "base")
            if not peer.alive:
                style += Style(color=self._style("peer-table--closed").color)
        cells = peer.cells
        if layout.short_state:
            cells = (*cells[:STATE], peer.short_state, *cells[STATE + 1 :])
        return self._strip(cells, layout, width, style)

    @staticmethod
    def _strip(cells: tuple[str, ...], layout: Layout, width: int, style: Style) -> Strip:
        pad = " " * PAD
        parts = []
        for i, w in layout.columns:
            fill = " " * (w - cell_len(cells[i]))
            cell = fill + cells[i] if i in RIGHT_ALIGNED else cells[i] + fill
            parts.append(pad + cell + pad)
        return Strip([Segment("".join(parts), style)]).crop_extend(0, width, style)
