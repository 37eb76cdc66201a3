"""The peers table's rows: what each peer's cells say, in order, and which columns fit a width.

This module imports no Textual (the widget is ``widgets/peer_table.py``). Each row keeps the
strings its cells show, rewritten only when its peer changed. Column widths are each column's
widest cell over every row, kept as counts of rows per width, so a change costs its own row
and a column still narrows when its widest cell leaves. A layout depends on the rows and the
width alone, never on when something was measured.

When the columns are wider than the table, ``SHRINK`` shortens or drops whole columns, least
important first (the state regains its long form if dropping columns made room for it): a cell
is drawn whole or not at all, so a number never loses its unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

from workbench.describe import short_state
from workbench.ui.model import ConnectionView, human_bytes, human_duration

COLUMNS = ("id", "remote", "for", "in", "out", "state")
FOR, STATE = COLUMNS.index("for"), COLUMNS.index("state")
RIGHT_ALIGNED = frozenset({FOR, COLUMNS.index("in"), COLUMNS.index("out")})
PAD = 1
"""Blank cells on each side of every column, as DataTable draws them."""

SHRINK: tuple[tuple[Literal["drop", "short"], str], ...] = (
    ("short", "state"),
    ("drop", "for"),
    ("drop", "out"),
    ("drop", "in"),
    ("drop", "state"),
    ("drop", "remote"),
)
"""What goes first when the columns are wider than the table; the id column always stays.
A column is shown only while every column more important than it is."""


@dataclass(frozen=True, slots=True)
class PeerRow:
    """What one peer's row shows: a string per column, and a shorter state for narrow tables."""

    conn: int
    cells: tuple[str, ...]
    short_state: str
    alive: bool

    def shown(self, layout: Layout) -> tuple[str, ...]:
        """The cells as drawn in ``layout`` (with the short state where it asks for it)."""
        if not layout.short_state:
            return self.cells
        return (*self.cells[:STATE], self.short_state, *self.cells[STATE + 1 :])


def peer_row(peer: ConnectionView, now: float) -> PeerRow:
    if peer.backlog_note:
        state, short = f"behind ({human_bytes(peer.pending)} waiting)", "behind"
    else:
        state, short = peer.state, short_state(peer.state)
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

    def line(self, cells: tuple[str, ...]) -> str:
        """One line of the table: each shown cell padded to its column, numbers to the right."""
        pad = " " * PAD
        parts = []
        for index, width in self.columns:
            cell = cells[index]
            fill = " " * (width - cell_len(cell))
            parts.append(pad + (fill + cell if index in RIGHT_ALIGNED else cell + fill) + pad)
        return "".join(parts)


class PeerRows:
    """The rows in the table's order (first listed first), with their column widths."""

    def __init__(self) -> None:
        self._rows: dict[int, PeerRow] = {}  # insertion order is the table's order
        self._order: list[int] = []
        self._index: dict[int, int] | None = None  # conn → position, rebuilt after removals
        # Rows per cell width, for each column and then for the short state.
        self._width_counts: list[Counter[int]] = [Counter() for _ in range(len(COLUMNS) + 1)]
        self._layout: tuple[int, Layout] | None = None

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, conn: object) -> bool:
        return conn in self._rows

    @property
    def order(self) -> list[int]:
        return self._order

    def row(self, conn: int) -> PeerRow:
        return self._rows[conn]

    def at(self, position: int) -> PeerRow:
        return self._rows[self._order[position]]

    def position(self, conn: int) -> int:
        if self._index is None:
            self._index = {key: position for position, key in enumerate(self._order)}
        return self._index[conn]

    def put(self, peer: ConnectionView, now: float) -> bool:
        """A new peer's row goes last, a known peer's is rewritten in place: True if it changed."""
        old = self._rows.get(peer.id)
        new = peer_row(peer, now)
        if new == old:
            return False
        if old is None:
            self._order.append(peer.id)
            if self._index is not None:
                self._index[peer.id] = len(self._order) - 1
        self._set(peer.id, old, new)
        return True

    def tick(self, peer: ConnectionView, now: float) -> bool:
        """Only the time-connected cell (the clock moved, nothing else did): True if it changed."""
        row = self._rows.get(peer.id)
        if row is None:
            return False
        duration = human_duration(peer.duration(now))
        if row.cells[FOR] == duration:
            return False
        cells = (*row.cells[:FOR], duration, *row.cells[FOR + 1 :])
        self._set(peer.id, row, PeerRow(row.conn, cells, row.short_state, row.alive))
        return True

    def forget(self, conns: Iterable[int]) -> bool:
        """Remove these rows in one pass; returns whether any was there."""
        doomed = {conn for conn in conns if conn in self._rows}
        for conn in doomed:
            self._set(conn, self._rows[conn], None)
        if doomed:
            self._order = list(self._rows)
            self._index = None
        return bool(doomed)

    def _set(self, conn: int, old: PeerRow | None, new: PeerRow | None) -> None:
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
        self._layout = None

    def widths(self) -> list[int]:
        """Each column's widest cell or header, then the short state's, over every row."""
        labels = (*COLUMNS, COLUMNS[STATE])
        return [
            max(cell_len(label), max(counts, default=0))
            for label, counts in zip(labels, self._width_counts, strict=True)
        ]

    def layout(self, width: int) -> Layout:
        """The columns that fit in ``width`` cells, shortened and dropped by ``SHRINK``."""
        if self._layout is not None and self._layout[0] == width:
            return self._layout[1]
        widths = self.widths()
        shown = list(range(len(COLUMNS)))
        short = False

        def total() -> int:
            state = widths[-1] if short else widths[STATE]
            return sum((state if i == STATE else widths[i]) + 2 * PAD for i in shown)

        for kind, name in SHRINK:
            if total() <= width:
                break
            if kind == "short":
                short = True
            else:
                shown.remove(COLUMNS.index(name))
        if short and STATE in shown:  # dropping columns may have made room for the long form
            short = False
            short = total() > width
        state_width = widths[-1] if short else widths[STATE]
        columns = tuple((i, state_width if i == STATE else widths[i]) for i in shown)
        layout = Layout(columns, short)
        self._layout = (width, layout)
        return layout
