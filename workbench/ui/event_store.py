"""The event log's memory: a capped, filterable store that stays fast under floods.

This module imports no Textual so it can be tested (and benchmarked) on its own. Events are
addressed by *absolute position* (0 for the first event ever appended) so that dropping the
oldest events never renumbers anything: caches and cursors keyed by position stay valid.

The store keeps, besides the events, what the search in ``event_search.py`` needs to be
fast: the distinct kinds, connections and addresses seen, the positions of the few events
without a payload, and the positions matching the current filter (extended batch by batch).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import overload

from workbench.events import Address, Event, Received, Sent, Side
from workbench.recording.index import payload_size
from workbench.settings import Settings
from workbench.ui.event_search import CONN, KIND, LOCAL, REMOTE, Needle, Seen, select

PAYLOAD_CAP = Settings.log_payload_mib << 20
"""Payload bytes the log keeps unless told otherwise: a bulk transfer must not grow the UI
without bound (a 100,000-event cap alone allows 25 GB of 256 KiB reads)."""

_COMPACT_AT = 4096
"""Dropped slots are reclaimed in chunks so that dropping stays amortised O(1) per event."""

_RESEEN_AT = 1024
"""Distinct connections seen, beyond which reclaiming dropped slots also forgets the
connections and addresses no retained event names: a long run of short-lived peers must not
grow the search's metadata without bound."""

_DROPPED = Event(seq=0, mono=0.0, wall=0.0, conn=-1, side=Side.LISTENER)
"""What a dropped slot holds until the slots are reclaimed: the event itself would keep its
payload alive (4,096 slots of 256 KiB reads held 1 GiB beyond the payload cap)."""


def _payload_size(event: Event) -> int:
    return len(event.data) if isinstance(event, Sent | Received) else 0


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
    """Keeps the newest ``cap`` events, within ``payload_cap`` bytes of payload, and exact
    running totals over every event ever seen.

    The newest event always stays, whatever its size: the log must show what just happened.
    """

    def __init__(self, cap: int = 100_000, payload_cap: int = PAYLOAD_CAP) -> None:
        if cap < 1 or payload_cap < 1:
            raise ValueError("caps must be at least 1")
        self.cap = cap
        self.payload_cap = payload_cap
        self.payload_bytes = 0  # of the retained events
        self.total_events = 0
        self.dropped = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.kind_counts: Counter[str] = Counter()
        self.conn_ids: set[int] = set()  # of the retained events, and maybe a few dropped
        self._reseen_at = _RESEEN_AT
        self.conns: frozenset[int] | None = None
        self.kinds: frozenset[str] | None = None
        self.search = ""
        self._needle: Needle | None = None
        # The addresses seen, like conn_ids: a rescan tests the needle against these.
        self._local_addresses: set[Address | None] = set()
        self._remote_addresses: set[Address | None] = set()
        # _events[i] has absolute position _base + i; slots before _head were dropped.
        self._events: list[Event] = []
        self._base = 0
        self._head = 0
        # Absolute positions of the retained events without a payload (connects, closes,
        # errors: few), whose detail text a search reads one event at a time.
        self._quiet: deque[int] = deque()
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
        start = self.end_position
        skipped = max(0, len(batch) - self.cap)
        seen, quiet = self._count(batch, start - skipped)
        if skipped:
            self.dropped += skipped
            batch = batch[skipped:]
            quiet = [position for position in quiet if position >= start]
        self._events.extend(batch)
        self.payload_bytes += sum(map(_payload_size, batch))
        self._quiet.extend(quiet)
        if self.filtering:
            self._matches.extend(self._select(batch, start, quiet, seen))
        return self._drop_excess()

    def set_filter(self, conns: Iterable[int] | None, kinds: Iterable[str] | None) -> None:
        """Show only these connections and kinds (None means all); rescans once."""
        self.conns = None if conns is None else frozenset(conns)
        self.kinds = None if kinds is None else frozenset(kinds)
        self._rescan()

    def set_search(self, text: str) -> None:
        """Case-insensitive substring search; an empty string shows everything.

        An event matches when the text is inside one of the columns the log shows for it,
        each on its own: the kind, ``#conn``, either address, the detail of an event without
        a payload (an error's message and hint, ...) or the first ``SEARCH_BYTES`` of a
        payload (see ``event_search.Needle.parse``). Nothing is cached per event, so a search
        costs no memory.
        """
        self.search = text.lower()
        self._needle = Needle.parse(self.search) if self.search else None
        self._rescan()

    def _count(self, batch: Sequence[Event], first: int) -> tuple[Seen, list[int]]:
        """Add the batch to the totals; return its distinct metadata and the positions of its
        payload-free events, numbering from ``first`` (where batch[0] lands if kept)."""
        self.total_events += len(batch)
        seen = Seen(
            Counter(map(KIND, batch)),
            set(map(CONN, batch)),
            set(map(LOCAL, batch)),
            set(map(REMOTE, batch)),
        )
        self.kind_counts.update(seen.kinds)
        self.conn_ids.update(seen.conns)
        self._local_addresses.update(seen.local_addresses)
        self._remote_addresses.update(seen.remote_addresses)
        quiet = []
        bytes_in = bytes_out = 0
        for position, event in enumerate(batch, first):
            if isinstance(event, Received):
                bytes_in += payload_size(event.data)  # a watched recording's may be excerpts
            elif isinstance(event, Sent):
                bytes_out += payload_size(event.data)
            else:
                quiet.append(position)
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out
        return seen, quiet

    def _drop_excess(self) -> int:
        excess = max(0, len(self) - self.cap)
        events, head = self._events, self._head
        self.payload_bytes -= sum(map(_payload_size, events[head : head + excess]))
        while self.payload_bytes > self.payload_cap and excess < len(self) - 1:
            self.payload_bytes -= _payload_size(events[head + excess])
            excess += 1
        if excess <= 0:
            return 0
        events[head : head + excess] = repeat(_DROPPED, excess)
        self._head += excess
        self.dropped += excess
        while self._quiet and self._quiet[0] < self.first_position:
            self._quiet.popleft()
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
            self._base += self._head
            self._head = 0
            self._forget_unseen()
        if force or self._match_head >= max(_COMPACT_AT, len(self._matches) // 16):
            del self._matches[: self._match_head]
            self._match_head = 0

    def _forget_unseen(self) -> None:
        """Narrow the metadata sets to the retained events once they have grown large.

        They only have to be a superset of what the retained events hold; rebuilding costs a
        pass over the events, so it waits until the connections seen have doubled.
        """
        if len(self.conn_ids) < self._reseen_at:
            return
        events = self._events
        self.conn_ids = set(map(CONN, events))
        self._local_addresses = set(map(LOCAL, events))
        self._remote_addresses = set(map(REMOTE, events))
        self._reseen_at = max(_RESEEN_AT, 2 * len(self.conn_ids))

    def _rescan(self) -> None:
        self._compact(force=True)
        self._matches = []
        if self.filtering:
            seen = Seen(
                self.kind_counts, self.conn_ids, self._local_addresses, self._remote_addresses
            )
            self._matches = self._select(self._events, self._base, self._quiet, seen)

    def _select(
        self, events: Sequence[Event], start: int, quiet: Iterable[int], seen: Seen
    ) -> list[int]:
        return select(events, start, quiet, seen, self.conns, self.kinds, self._needle)
