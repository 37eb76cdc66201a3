"""Search and filter over the event log's store, fast enough for a million events.

This module imports no Textual, like the store it serves (``event_store.py``). Filtering a
million events has to fit between two frames, so filters and searches run no Python code per
event: each criterion is one pass of C-level iterators (``map`` over attribute getters, set
lookups, a compiled regex) that ``compress`` turns into positions. When a search needs several
passes, each becomes one byte per event read as an int, so ``|`` merges them whole. Metadata
takes few distinct values (a handful of kinds, one ``#conn`` and two addresses per
connection), so search text is tested once per distinct value and the per-event test is a set
lookup; only the few events without a payload have text built (``describe.detail``, the words
their row shows). The same code serves a rescan and each appended batch, so a live view cannot
disagree with a fresh one.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import compress, repeat
from operator import attrgetter, itemgetter, or_, truth
from typing import NamedTuple, TypeVar

from workbench.codec import EncodeError, Mode, encode
from workbench.describe import detail
from workbench.events import Address, Event

SEARCH_BYTES = 4096
"""How much of a payload free-text search looks at; enough to find a header, cheap to test."""

KIND = attrgetter("kind")
CONN = attrgetter("conn")
LOCAL = attrgetter("local")
REMOTE = attrgetter("remote")
_HEAD = itemgetter(slice(0, SEARCH_BYTES))

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Needle:
    """Search text prepared once per search, so that each event costs a few C-level steps."""

    text: str  # lowercase; matched as text against metadata and payload-free events' detail
    payload: re.Pattern[bytes] | None  # the bytes to find in payloads, None if none can match
    fold: bool  # those bytes hold ASCII letters, so payloads are lowercased before matching

    @classmethod
    def parse(cls, text: str) -> Needle:
        """Read lowercase search text, payload bytes included.

        The log shows payloads escaped, so the text is read the way the composer's ESCAPES
        mode reads it and the bytes it stands for are searched: ``\\r\\n`` finds CR LF,
        ``\\x00`` a NUL byte and ``\\\\`` a backslash. Case is folded for ASCII letters only,
        as payloads need not be text: the lowercased search ``é`` finds ``é``, never ``É``.
        Text with a raw control character (which the log never shows) or a broken escape such
        as ``\\x4`` (which names no byte) finds no payload.
        """
        try:
            raw = encode(text, Mode.ESCAPES) if text.isprintable() else None
        except EncodeError:
            raw = None
        if raw is None:
            return cls(text, None, False)
        fold = raw.lower() != raw.upper()
        return cls(text, re.compile(re.escape(raw.lower() if fold else raw)), fold)

    def hits(self, values: Iterable[_T], spell: Callable[[_T], str]) -> frozenset[_T]:
        """The values whose text, as the log spells it, contains the needle."""
        return frozenset(v for v in values if v is not None and self.text in spell(v).lower())

    def in_payloads(self, events: Iterable[Event]) -> Iterator[object] | None:
        """Per event, whether the first SEARCH_BYTES of its payload hold the needle; None
        when no payload can. Events without a payload search b"" (getattr's default)."""
        pattern = self.payload
        if pattern is None:
            return None
        payloads = map(getattr, events, repeat("data"), repeat(b""))
        if not self.fold:
            return map(pattern.search, payloads, repeat(0), repeat(SEARCH_BYTES))
        # Lowering a copy then a plain search beats an IGNORECASE regex by a third.
        return map(pattern.search, map(bytes.lower, map(_HEAD, payloads)))


class Seen(NamedTuple):
    """Distinct metadata among some events (a superset does no harm): what needles test."""

    kinds: Collection[str]
    conns: Collection[int]
    local_addresses: Collection[Address | None]
    remote_addresses: Collection[Address | None]


def _mask(flags: Iterable[object]) -> int:
    """One byte (0 or 1) per event read as an int, so whole passes combine with ``|``."""
    return int.from_bytes(bytes(map(truth, flags)), "little")


def _found(
    needle: Needle, events: Sequence[Event], quiet: list[int], seen: Seen
) -> Iterable[object]:
    """Per event, whether the needle is in its kind, ``#conn``, an address, its payload or
    (for the ``quiet`` indices, events without a payload) its detail."""
    named: list[Iterable[object]] = [
        map(hits.__contains__, map(field, events))
        for hits, field in (
            (needle.hits(seen.conns, "#{}".format), CONN),
            (needle.hits(seen.kinds, str), KIND),
            (needle.hits(seen.local_addresses, str), LOCAL),
            (needle.hits(seen.remote_addresses, str), REMOTE),
        )
        if hits  # most searches name no kind, connection or address: no pass at all
    ]
    payloads = needle.in_payloads(events)
    tests = named if payloads is None else [*named, payloads]
    detailed = [i for i in quiet if needle.text in detail(events[i]).lower()]
    if len(tests) == 1 and not detailed:
        return tests[0]  # the usual search (payloads only), read straight into positions
    found = reduce(or_, map(_mask, tests), 0)
    flags = bytearray(found.to_bytes(len(events), "little"))
    for index in detailed:
        flags[index] = 1
    return flags


def select(
    events: Sequence[Event],
    start: int,
    quiet: Iterable[int],
    seen: Seen,
    conns: frozenset[int] | None,
    kinds: frozenset[str] | None,
    needle: Needle | None,
) -> list[int]:
    """Absolute positions of the ``events`` (the first at ``start``) the filter keeps.

    ``quiet`` holds the positions of the payload-free ones and ``seen`` their metadata.
    Connection and kind filters narrow the events first, so a search only reads those.
    """
    positions: Sequence[int] = range(start, start + len(events))
    for allowed, field in ((conns, CONN), (kinds, KIND)):
        if allowed is not None:
            flags = list(map(allowed.__contains__, map(field, events)))
            positions = list(compress(positions, flags))
            events = list(compress(events, flags))
    if needle is not None:
        indices = [
            i
            for position in quiet
            if (i := bisect_left(positions, position)) < len(positions) and positions[i] == position
        ]
        positions = list(compress(positions, _found(needle, events, indices, seen)))
    return list(positions)
