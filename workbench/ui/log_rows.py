"""How the event log reads: one event as a row of cells, and the log's subtitle. No Textual.

The widget (``workbench.ui.widgets.event_log``) draws these cells with the colours of their
component classes and caches the rows; what each says is decided here, where it can be tested
and benchmarked without a screen. Payload text is always escaped by ``workbench.safe_text``: peer
bytes never reach the markup parser or the terminal as control sequences.
"""

from __future__ import annotations

from workbench.describe import ARROWS, clock, detail, payload_of
from workbench.events import Event
from workbench.recording.index import payload_size
from workbench.safe_text import escape_bytes, hex_inline
from workbench.ui.event_store import EventStore

KIND_CLASSES = {
    kind: f"event-log--{kind}"
    for kind in ("recv", "send", "error", "accept", "connect", "close", "listen")
} | {"connecting": "event-log--connect", "stop": "event-log--listen"}
"""Kinds without an entry (eof, shutdown) are quiet bookkeeping and use ``event-log--meta``."""

PAUSED = "paused — End to follow"

Cell = tuple[str, str | None]
"""A cell's text and its component class (None: the row's own colours)."""


def row_cells(event: Event, width: int, hex_mode: bool) -> list[Cell]:
    """Time, connection, direction, kind and size, then a preview cut to ``width``."""
    kind_class = KIND_CLASSES.get(event.kind, "event-log--meta")
    data = payload_of(event)
    size = "" if data is None else f"{payload_size(data):>10,}"  # data may be an excerpt
    return [
        (clock(event.wall), "event-log--time"),
        (f"  #{event.conn:<5}", "event-log--conn"),
        (f"{ARROWS.get(event.kind, '·')} {event.kind:<10}{size}  ", kind_class),
        (preview(event, data, width, hex_mode), kind_class if event.kind == "error" else None),
    ]


def preview(event: Event, data: bytes | None, width: int, hex_mode: bool) -> str:
    if data is None:
        return detail(event)
    if hex_mode:
        return hex_inline(data, limit=width // 3 + 1)
    return escape_bytes(data, limit=width)


def subtitle(store: EventStore, following: bool) -> str | None:
    """What the log's lower border says: the filter's count, drops, and a pause."""
    parts = []
    if store.filtering:
        parts.append(f"filter: {store.visible_count:,} of {len(store):,}")
    if store.dropped:
        parts.append(f"{store.dropped:,} oldest dropped")
    if not following:
        parts.append(PAUSED)
    return " · ".join(parts) or None
