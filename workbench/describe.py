"""Events in words, for people: the one place an event becomes text.

The event log's rows, the payload screen and its search take their words from here. Plain data:
this module imports no Textual or Rich (only the events, the safe preview of bytes and the
wording helpers).
"""

from __future__ import annotations

import time

from workbench.events import (
    Accepted,
    Closed,
    Error,
    Event,
    Listening,
    Received,
    Sent,
)
from workbench.preview import escape_bytes, is_shown_as_is

ARROWS = {"send": "→", "recv": "←"}
"""Direction of bytes as seen from this machine; everything else gets a neutral dot."""


def clean(text: str) -> str:
    """Engine-supplied text (host names, OS messages) can carry controls too; escape them."""
    if is_shown_as_is(text):
        return text  # what escape_bytes returns here, minus its decoder: rows call this a lot
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
        reason = f" — {event.reason}" if event.reason else ""
        return clean(f"closed by {event.by}{reason}" + (f"  {local} ⇄ {remote}" if remote else ""))
    if isinstance(event, Listening):
        return clean(f"on {local}  backlog {event.backlog}")
    if isinstance(event, Accepted):
        return clean(f"{remote} → {local}  via #{event.listener}")
    if local and remote:
        return clean(f"{local} ⇄ {remote}")
    return clean(str(local or remote or ""))
