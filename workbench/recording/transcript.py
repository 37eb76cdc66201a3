"""A recording as a readable log: one line per event, for ``workbench show`` and for sharing.

The words are the event log's (``workbench.describe``). Recordings travel between people, so
every string printed here (payloads, and also addresses, error messages and hints) is escaped
(``escape_bytes``, ``describe.clean``): a crafted file cannot send escape sequences to the
terminal of whoever looks at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from workbench.describe import arrow, clean, detail
from workbench.events import Event, Received, Sent
from workbench.recording.format import Header
from workbench.safe_text import escape_bytes, hex_dump

HEX_INDENT = "    "


def transcript_lines(header: Header, events: Iterable[Event], *, hex: bool) -> Iterator[str]:
    """The header, then one line per event; with ``hex``, payloads as dumps under their line.

    Lazy: fed from a ``RecordingReader``, a recording of any size prints in constant memory.
    """
    major, minor = header.version
    yield (
        f"# recording started {clean(header.started)} on {clean(header.host)}"
        f" (workbench {clean(header.tool_version)}, format {major}.{minor})"
    )
    for event in events:
        elapsed = event.mono - header.started_mono
        prefix = f"{elapsed:+.3f}s  #{event.conn:<3} {event.side.value:<8}  "
        yield prefix + _describe(event, with_payload=not hex)
        if hex and isinstance(event, (Sent, Received)):
            yield from (HEX_INDENT + line for line in hex_dump(event.data))


def _describe(event: Event, *, with_payload: bool) -> str:
    """The event's kind and the words the event log shows for it (``describe.detail``)."""
    if isinstance(event, Sent | Received):
        payload = f"  {escape_bytes(event.data)}" if with_payload else ""
        return f"{arrow(event.kind)} {event.kind}  {event.size} B{payload}"
    return f"{event.kind}  {detail(event)}".rstrip()
