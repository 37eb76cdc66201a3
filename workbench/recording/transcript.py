"""A recording as a readable log: one line per event, for ``workbench show`` and for sharing.

Recordings travel between people, so every string printed here (payloads, and also addresses,
error messages and hints) goes through ``escape_bytes``: a crafted file cannot send escape
sequences to the terminal of whoever looks at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
from workbench.preview import escape_bytes, hex_dump
from workbench.recording.format import Header

HEX_INDENT = "    "

_CLOSERS = {
    Closer.LOCAL: "closed by us (FIN)",
    Closer.LOCAL_RESET: "reset by us (RST)",
    Closer.PEER: "closed by the peer (FIN)",
    Closer.PEER_RESET: "reset by the peer (RST)",
}


def transcript_lines(header: Header, events: Iterable[Event], *, hex: bool) -> Iterator[str]:
    """The header, then one line per event; with ``hex``, payloads as dumps under their line.

    Lazy: fed from a ``RecordingReader``, a recording of any size prints in constant memory.
    """
    major, minor = header.version
    yield (
        f"# recording started {_safe(header.started)} on {_safe(header.host)}"
        f" (workbench {_safe(header.tool_version)}, format {major}.{minor})"
    )
    for event in events:
        elapsed = event.mono - header.started_mono
        prefix = f"{elapsed:+.3f}s  #{event.conn:<3} {event.side.value:<8}  "
        yield prefix + _describe(event, with_payload=not hex)
        if hex and isinstance(event, (Sent, Received)):
            yield from (HEX_INDENT + line for line in hex_dump(event.data))


def _describe(event: Event, *, with_payload: bool) -> str:
    match event:
        case Sent() | Received():
            arrow = "→ send" if isinstance(event, Sent) else "← recv"
            payload = f"  {escape_bytes(event.data)}" if with_payload else ""
            return f"{arrow}  {event.size} B{payload}"
        case Listening():
            return f"listen  on {_address(event.local)} (backlog {event.backlog})"
        case Stopped():
            return f"stop  no longer listening on {_address(event.local)}"
        case Accepted():
            where = f"{_address(event.remote)} → {_address(event.local)}"
            return f"accept  {where} (listener #{event.listener})"
        case Connecting():
            return f"connecting  to {_address(event.remote)} (timeout {event.timeout:g} s)"
        case Connected():
            return f"connect  {_address(event.local)} → {_address(event.remote)}"
        case PeerEof():
            return "eof  the peer finished sending (FIN)"
        case HalfClosed():
            return "shutdown  we finished sending (FIN)"
        case Closed():
            reason = f" — {event.reason}" if event.reason else ""
            return f"close  {_CLOSERS[event.by]}{reason}"
        case Error():
            hint = f" — {_safe(event.hint)}" if event.hint else ""
            return f"error  {_safe(event.operation)}: {_safe(event.message)}{hint}"
    return event.kind


def _address(address: Address | None) -> str:
    return "?" if address is None else _safe(str(address))


def _safe(text: str) -> str:
    return escape_bytes(text.encode("utf-8", "surrogatepass"))
