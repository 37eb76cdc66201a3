"""The event log's memory: a capped, filterable store that stays fast under floods.

This module imports no Textual so it can be tested (and benchmarked) on its own. Events are
addressed by *absolute position* (0 for the first event ever appended) so that dropping the
oldest events never renumbers anything: caches and cursors keyed by position stay valid.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import overload

from workbench.events import Accepted, Closed, Error, Event, Listening, Received, Sent
from workbench.preview import escape_bytes

SEARCH_BYTES = 4096
"""How much of a payload free-text search looks at; enough to find a header, cheap to build."""

_COMPACT_AT = 4096
"""Dropped slots are reclaimed in chunks so that dropping stays amortised O(1) per event."""


def clean(text: str) -> str:
    """Engine-supplied text (host names, OS messages) can carry controls too; escape them."""
    return escape_bytes(text.encode("utf-8", "surrogateescape"))


def clock(wall: float) -> str:
    """Local wall-clock time with milliseconds: what people compare against their other logs."""
    millis = int(wall * 1000) % 1000
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{millis:03d}"


def payload_of(event: Event) -> bytes | None:
    """The bytes an event carries, or None for events that carry none."""
    if isinstance(event, Sent | Received):
        return event.data
    return None


def detail(event: Event) -> str:
    """What a row says about a non-payload event, in words a learner can act on."""
    local, remote = event.local, event.remote
    if isinstance(event, Error):
        return clean(f"{event.message} — {event.hint}" if event.hint else event.message)
    if isinstance(event, Closed):
        return clean(f"closed by {event.by}" + (f"  {local} ⇄ {remote}" if remote else ""))
    if isinstance(event, Listening):
        return clean(f"on {local}  backlog {event.backlog}")
    if isinstance(event, Accepted):
        return clean(f"{remote} → {local}  via #{event.listener}")
    if local and remote:
        return clean(f"{local} ⇄ {remote}")
    return clean(str(local or remote or ""))


def searchable(event: Event) -> str:
    """The lowercase text a free-text search matches against; built only while searching."""
    data = payload_of(event)
    text = detail(event) if data is None else escape_bytes(data[:SEARCH_BYTES])
    local, remote = event.local or "", event.remote or ""
    return f"{event.kind} #{event.conn} {local} {remote} {text}".lower()


class EventView(Sequence[Event]):
    """The rows visible under the current filter, read through to the store (a live view)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return self._store.visible_count

    @overload
    def __getitem__(self, row: int) -> Event: ...
    @overload
    def __getitem__(self, row: slice) -> Sequence[Event]: ...
    def __getitem__(self, row: int | slice) -> Event | Sequence[Event]:
        if isinstance(row, slice):
            return [self._store.event_at(p) for p in self._store.positions(row)]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._store.event_at(self._store.position_of(row))


class EventStore:
    """Keeps the newest ``cap`` events and exact running totals over every event ever seen."""

    def __init__(self, cap: int = 100_000) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.cap = cap
        self.total_events = 0
        self.dropped = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.kind_counts: Counter[str] = Counter()
        self.conn_ids: set[int] = set()
        self.conns: frozenset[int] | None = None
        self.kinds: frozenset[str] | None = None
        self.search = ""
        # _events[i] has absolute position _base + i; slots before _head were dropped.
        self._events: list[Event] = []
        self._base = 0
        self._head = 0
        # Lowercase searchable strings aligned with _events, created on the first search.
        self._hay: list[str | None] | None = None
        # Absolute positions of matching events while a filter is active; same head scheme.
        self._matches: list[int] = []
        self._match_head = 0

    # -- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._events) - self._head

    @property
    def first_position(self) -> int:
        return self._base + self._head

    @property
    def end_position(self) -> int:
        return self._base + len(self._events)

    @property
    def filtering(self) -> bool:
        return self.conns is not None or self.kinds is not None or bool(self.search)

    @property
    def visible_count(self) -> int:
        if self.filtering:
            return len(self._matches) - self._match_head
        return len(self)

    def view(self) -> EventView:
        return EventView(self)

    def event_at(self, position: int) -> Event:
        """The retained event at an absolute position."""
        if not self.first_position <= position < self.end_position:
            raise IndexError(position)
        return self._events[position - self._base]

    def position_of(self, row: int) -> int:
        """Absolute position of a visible row (0-based, under the current filter)."""
        if self.filtering:
            return self._matches[self._match_head + row]
        return self.first_position + row

    def positions(self, rows: slice) -> list[int]:
        """Absolute positions of a slice of visible rows."""
        return [self.position_of(row) for row in range(self.visible_count)[rows]]

    def row_for(self, position: int) -> int:
        """The first visible row at or after ``position``; keeps a cursor near its event."""
        if self.filtering:
            return bisect_left(self._matches, position, self._match_head) - self._match_head
        return max(0, position - self.first_position)

    # -- writing -----------------------------------------------------------------------------

    def append(self, batch: Sequence[Event]) -> int:
        """Add a batch in order; returns how many visible rows fell off the front."""
        self._count(batch)
        if len(batch) > self.cap:
            self.dropped += len(batch) - self.cap
            batch = batch[-self.cap :]
        start = self.end_position
        self._events.extend(batch)
        if self._hay is not None:
            self._hay.extend([None] * len(batch))
        if self.filtering:
            self._matches.extend(p for p, ev in enumerate(batch, start) if self._keep(p, ev))
        return self._drop_excess()

    def set_filter(self, conns: Iterable[int] | None, kinds: Iterable[str] | None) -> None:
        """Show only these connections and kinds (None means all); rescans once."""
        self.conns = None if conns is None else frozenset(conns)
        self.kinds = None if kinds is None else frozenset(kinds)
        self._rescan()

    def set_search(self, text: str) -> None:
        """Case-insensitive substring search over rows; an empty string shows everything."""
        self.search = text.lower()
        if not self.search:
            self._hay = None  # the cache can be several times the payloads it previews
        self._rescan()

    def _count(self, batch: Sequence[Event]) -> None:
        self.total_events += len(batch)
        self.kind_counts.update(ev.kind for ev in batch)
        self.conn_ids.update(ev.conn for ev in batch)
        for ev in batch:
            if isinstance(ev, Received):
                self.bytes_in += len(ev.data)
            elif isinstance(ev, Sent):
                self.bytes_out += len(ev.data)

    def _drop_excess(self) -> int:
        excess = len(self) - self.cap
        if excess <= 0:
            return 0
        self._head += excess
        self.dropped += excess
        if not self.filtering:
            self._compact()
            return excess
        head = bisect_left(self._matches, self.first_position, self._match_head)
        removed, self._match_head = head - self._match_head, head
        self._compact()
        return removed

    def _compact(self, force: bool = False) -> None:
        if force or self._head >= max(_COMPACT_AT, len(self._events) // 16):
            del self._events[: self._head]
            if self._hay is not None:
                del self._hay[: self._head]
            self._base += self._head
            self._head = 0
        if force or self._match_head >= max(_COMPACT_AT, len(self._matches) // 16):
            del self._matches[: self._match_head]
            self._match_head = 0

    def _rescan(self) -> None:
        self._compact(force=True)
        self._matches = []
        if not self.filtering:
            return
        if self.search and self._hay is None:
            self._hay = [None] * len(self._events)
        keep = self._keep
        self._matches = [p for p, ev in enumerate(self._events, self._base) if keep(p, ev)]

    def _keep(self, position: int, event: Event) -> bool:
        if self.conns is not None and event.conn not in self.conns:
            return False
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        return not self.search or self.search in self._haystack(position, event)

    def _haystack(self, position: int, event: Event) -> str:
        assert self._hay is not None
        index = position - self._base
        hay = self._hay[index]
        if hay is None:
            hay = self._hay[index] = searchable(event)
        return hay
