"""Events in words, for people: the one place an event becomes text.

The event log's rows, the payload screen's heading, a client tab's transcript and status, the
peers table's states, ``workbench show`` and the help screen all take their words from here,
so one thing is called one name everywhere. Plain data: this module imports no Textual or
Rich (only the events, the safe preview of bytes and the wording helpers).

The vocabulary:

- An event is named by its ``kind``, exactly as stored on disk (``listen``, ``accept``,
  ``connecting``, ``connect``, ``send``, ``recv``, ``eof``, ``shutdown``, ``close``,
  ``error``, ``stop``); ``KIND_MEANINGS`` explains each one.
- Who ended a direction, and how, in TCP's terms: ``FIN by us``, ``FIN by peer``,
  ``RST by us``, ``RST by peer`` (``CLOSER_WORDS``).
- A connection's state: ``connecting``, ``open``, ``failed``, ``half-closed (FIN by peer)``,
  ``half-closed (FIN by us)``, and ``closed (…)`` with its closer (``closed_state``).

Text that comes from the engine or from a file (host names, OS messages, hints, addresses in a
recording) goes through ``clean`` before it is shown: it may hold control characters, bidi
overrides or anything else a peer or a crafted file can put there.
"""

from __future__ import annotations

import time

from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Error,
    Event,
    HalfClosed,
    Listening,
    PeerEof,
    Received,
    Sent,
    Stopped,
)
from workbench.safe_text import escape_bytes, is_shown_as_is
from workbench.wording import counted

# -- who closed, and how ---------------------------------------------------------------------

FIN_BY_US = "FIN by us"
FIN_BY_PEER = "FIN by peer"
RST_BY_US = "RST by us"
RST_BY_PEER = "RST by peer"

CLOSER_WORDS = {
    Closer.LOCAL: FIN_BY_US,
    Closer.LOCAL_RESET: RST_BY_US,
    Closer.PEER: FIN_BY_PEER,
    Closer.PEER_RESET: RST_BY_PEER,
}
"""How a connection ended, in TCP's terms: who sent the FIN (orderly) or the RST (abortive)."""

# -- connection states -----------------------------------------------------------------------

CONNECTING = "connecting"
OPEN = "open"
FAILED = "failed"
HALF_CLOSED_BY_PEER = f"half-closed ({FIN_BY_PEER})"
"""The peer sent FIN (it is done sending); we may still send."""
HALF_CLOSED_BY_US = f"half-closed ({FIN_BY_US})"
"""We sent FIN (we are done sending); we still read."""
CLOSED = "closed"
"""Closed, before the closer is known (the engine's own bookkeeping)."""


def closed_state(by: Closer) -> str:
    """The state of a connection that ``by`` ended: ``closed (RST by peer)``."""
    return f"{CLOSED} ({CLOSER_WORDS[by]})"


SHORT_STATES = {
    HALF_CLOSED_BY_PEER: FIN_BY_PEER,
    HALF_CLOSED_BY_US: FIN_BY_US,
    closed_state(Closer.LOCAL): CLOSED,
    closed_state(Closer.PEER): CLOSED,
    closed_state(Closer.LOCAL_RESET): "reset",
    closed_state(Closer.PEER_RESET): "reset",
}
"""The states as a narrow table shows them (the others are short already): the closer's words
for a half-closed connection, whether it ended with FIN or RST for a closed one."""


def short_state(state: str) -> str:
    return SHORT_STATES.get(state, state)


# -- event kinds -----------------------------------------------------------------------------

KIND_MEANINGS = {
    "listen": "our server socket is bound and listening (the row says on which address)",
    "stop": "our server stopped listening; peers it accepted stay until closed",
    "accept": "our server accepted a peer: a TCP handshake finished",
    "connecting": "a client tab started connecting (the row says to where, and the timeout)",
    "connect": "a client tab's TCP handshake finished",
    "send": "bytes the kernel took from us",
    "recv": "bytes that arrived",
    "eof": f"{FIN_BY_PEER}: the peer is done sending; we may still answer",
    "shutdown": f"{FIN_BY_US} (half-close): we are done sending; we still read",
    "close": (
        f"the connection is gone, and who ended it how: {FIN_BY_US}, {FIN_BY_PEER}, "
        f"{RST_BY_US} or {RST_BY_PEER}"
    ),
    "error": "what went wrong, and what to check",
}
"""What each event kind means, by the kind string the log shows (and the recordings store)."""

ARROWS = {"send": "→", "recv": "←"}
"""Direction of bytes as seen from this machine; everything else gets a neutral dot."""


def arrow(kind: str) -> str:
    return ARROWS.get(kind, "·")


# -- text from elsewhere ---------------------------------------------------------------------


def clean(text: str) -> str:
    """Engine- or file-supplied text (host names, OS messages, hints) made inert to show.

    Controls, bidi overrides and the like become ``\\xNN`` escapes, as payloads do. Lone
    surrogates that stand for undecodable bytes (surrogateescape) show as those bytes; any
    other lone surrogate shows as its UTF-8-like bytes rather than failing.
    """
    if is_shown_as_is(text):
        return text  # what escape_bytes returns here, minus its decoder: rows call this a lot
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return escape_bytes(raw)


def with_hint(message: str, hint: str) -> str:
    """A message and what to check about it, both made inert."""
    return f"{clean(message)} — {clean(hint)}" if hint else clean(message)


def clock(wall: float) -> str:
    """Local wall-clock time with milliseconds: what people compare against their other logs."""
    millis = int(wall * 1000) % 1000
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{millis:03d}"


def payload_of(event: Event) -> bytes | None:
    """The bytes an event carries, or None for events that carry none."""
    if isinstance(event, Sent | Received):
        return event.data
    return None


def address(where: Address | None) -> str:
    return "?" if where is None else clean(str(where))


def _between(event: Event) -> str:
    """``local ⇄ remote``, or whichever of them is known."""
    local, remote = event.local, event.remote
    if local and remote:
        return f"{address(local)} ⇄ {address(remote)}"
    return clean(str(local or remote or ""))


def detail(event: Event) -> str:
    """What a non-payload event says beyond its kind, in words a learner can act on.

    The event log shows it after the kind, ``workbench show`` too; search reads it.
    """
    match event:
        case Error():
            operation = f"{clean(event.operation)}: " if event.operation else ""
            return operation + with_hint(event.message, event.hint)
        case Closed():
            reason = f" — {event.reason}" if event.reason else ""
            where = f"  {_between(event)}" if event.remote else ""
            return f"{CLOSER_WORDS[event.by]}{reason}{where}"
        case Listening():
            return f"on {address(event.local)}  backlog {event.backlog}"
        case Stopped():
            return f"no longer listening on {address(event.local)}"
        case Accepted():
            where = f"{address(event.remote)} → {address(event.local)}"
            return f"{where}  via listener #{event.listener}"
        case Connecting():
            return f"to {address(event.remote)}  timeout {event.timeout:g} s"
        case PeerEof():
            return f"{FIN_BY_PEER}  {_between(event)}".rstrip()
        case HalfClosed():
            return f"{FIN_BY_US}  {_between(event)}".rstrip()
        case Connected():
            return _between(event)
    return _between(event)


# -- a client tab's transcript ---------------------------------------------------------------

LINE_PREVIEW_BYTES = 512
LINES_PER_CHUNK = 40


def tab_lines(event: Event) -> list[str]:
    """A chunk's lines for a tab's transcript: split at newlines, each piece escaped after its
    arrow; huge chunks are summarised. Events without bytes give no line."""
    if not isinstance(event, Sent | Received):
        return []
    head = arrow(event.kind) + " "
    pieces = event.data.splitlines(keepends=True)
    lines = [head + escape_bytes(piece, LINE_PREVIEW_BYTES) for piece in pieces[:LINES_PER_CHUNK]]
    if len(pieces) > LINES_PER_CHUNK:
        rest = sum(len(p) for p in pieces[LINES_PER_CHUNK:])
        more = counted(len(pieces) - LINES_PER_CHUNK, "more line")
        lines.append(f"  … (+{counted(rest, 'byte')} in {more})")
    return lines


def tab_line_count(event: Event) -> int:
    """How many lines ``tab_lines`` gives for ``event``, without building them."""
    if not isinstance(event, Sent | Received) or not event.data:
        return 0
    data = event.data
    pieces = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    pieces += data[-1:] not in (b"\n", b"\r")  # splitlines' last piece may have no ending
    return min(pieces, LINES_PER_CHUNK + 1)
