"""A recorded conversation as a script seen from one end: what it sent, received and when.

Each conversation in a recording becomes an ordered list of what one end sent (``Send``), what
it received (``Expect``) and where each side finished sending (``Finish``, ``PeerFinish``), with
the recorded think time before each step. ``replay`` plays the client's end against a live
server; ``mock`` plays the server's end to live clients. Plain functions of the events, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.describe import clean
from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Event,
    HalfClosed,
    PeerEof,
    Received,
    Sent,
    Side,
)


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``data`` after ``delay`` seconds of recorded think time since the previous step."""

    data: bytes
    delay: float


@dataclass(frozen=True, slots=True)
class Expect:
    """Bytes the other end sent at this point (consecutive chunks merged: TCP cuts anywhere)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Finish:
    """This end finished sending here (FIN), ``delay`` seconds after the previous step."""

    delay: float


@dataclass(frozen=True, slots=True)
class PeerFinish:
    """The other end finished sending here."""


Step = Send | Expect | Finish | PeerFinish


@dataclass(frozen=True, slots=True)
class Script:
    """One recorded conversation as seen from the end that is to be played.

    ``start`` is when the conversation began, in seconds after the first one in the recording;
    ``local`` and ``remote`` are the played end's own address and its partner's, as recorded.
    """

    conn: int
    local: Address | None
    remote: Address | None
    start: float
    steps: tuple[Step, ...]

    @property
    def expected(self) -> bytes:
        return b"".join(step.data for step in self.steps if isinstance(step, Expect))

    @property
    def sent(self) -> bytes:
        return b"".join(step.data for step in self.steps if isinstance(step, Send))

    @property
    def expected_size(self) -> int:
        return sum(len(step.data) for step in self.steps if isinstance(step, Expect))

    @property
    def sent_size(self) -> int:
        return sum(len(step.data) for step in self.steps if isinstance(step, Send))

    @property
    def duration(self) -> float:
        """Recorded seconds from the first conversation's start to this one's last send or FIN."""
        delays = (step.delay for step in self.steps if isinstance(step, (Send, Finish)))
        return self.start + math.fsum(d for d in delays if math.isfinite(d) and d > 0)

    def __str__(self) -> str:
        """Safe to print: the addresses come from a file that anyone may have written."""
        label = f"#{self.conn} ({self.local} → {self.remote})"
        return clean(label)


def client_scripts(events: Iterable[Event], *, merge: bool = True) -> list[Script]:
    """The client end of every recorded conversation.

    Taken from the recorded client connections; a recording of only our server side is played
    mirrored, so what the server received becomes what the client sends. Without ``merge``
    the recorded answer chunks are kept as they are instead of joined (no copy of them).
    """
    return _scripts(events, Side.CLIENT, merge=merge)


def server_scripts(events: Iterable[Event]) -> list[Script]:
    """The server end of every recorded conversation (mirrored clients when no server side)."""
    return _scripts(events, Side.PEER)


def _scripts(events: Iterable[Event], played: Side, *, merge: bool = True) -> list[Script]:
    conversations = _conversations(events)
    direct = [conv for conv in conversations if conv[0].side is played]
    chosen = direct or [conv for conv in conversations if conv[0].side is not played]
    scripts = [_script(conv, mirrored=not direct, merge=merge) for conv in chosen]
    origin = min((script.start for script in scripts), default=0.0)
    return [
        Script(s.conn, s.local, s.remote, s.start - origin, s.steps)
        for s in sorted(scripts, key=lambda s: s.start)
    ]


def _conversations(events: Iterable[Event]) -> list[list[Event]]:
    """Events per connection that carried a conversation; failed connect attempts had none."""
    by_conn: dict[int, list[Event]] = {}
    for event in events:
        if event.side is not Side.LISTENER:
            by_conn.setdefault(event.conn, []).append(event)
    return [
        conv
        for conv in by_conn.values()
        if any(isinstance(event, (Connected, Accepted)) for event in conv)
    ]


def _script(conv: list[Event], *, mirrored: bool, merge: bool = True) -> Script:
    """``merge`` joins consecutive Expect chunks into one; without it they stay the recorded
    chunks, so a replay that only counts and compares them holds no copy of the answers."""
    opened = next(event for event in conv if isinstance(event, (Connected, Accepted)))
    steps: list[Step] = []
    expecting: list[bytes] = []  # consecutive Expect chunks, joined once (not once per chunk)
    last = opened.mono
    for event in conv:
        step = _step(event, mirrored=mirrored, delay=event.mono - last)
        if step is None or _repeats_an_end(step, steps):
            continue
        if isinstance(step, Expect) and merge:
            expecting.append(step.data)
        else:
            if expecting:
                steps.append(Expect(b"".join(expecting)))
                expecting.clear()
            steps.append(step)
        last = event.mono
    if expecting:
        steps.append(Expect(b"".join(expecting)))
    local, remote = (opened.remote, opened.local) if mirrored else (opened.local, opened.remote)
    return Script(opened.conn, local, remote, opened.mono, tuple(steps))


def unplayable(events: Iterable[Event]) -> list[str]:
    """Why some recorded conversations cannot be replayed, one sentence each.

    Recording started while a connection was open (Ctrl+R mid-session) holds its sends and
    receives but not its connect or accept, so who connected to whom, and from where, is missing.
    """
    opened: set[int] = set()
    talked: set[int] = set()
    for event in events:
        if isinstance(event, (Connected, Accepted)):
            opened.add(event.conn)
        elif isinstance(event, (Sent, Received)) and event.side is not Side.LISTENER:
            talked.add(event.conn)
    return [
        f"conversation #{conn} started before the recording began, so its opening is missing "
        "(who connected to whom, and from where) and it cannot be replayed; start recording "
        "before connecting to replay it"
        for conn in sorted(talked)
        if conn not in opened
    ]


def _step(event: Event, *, mirrored: bool, delay: float) -> Step | None:
    """The event as a step of the played end; ``mirrored`` swaps who did what."""
    match event:
        case Sent(data=data) | Received(data=data) if data:
            ours = isinstance(event, Sent) != mirrored
            return Send(data, delay) if ours else Expect(data)
        case HalfClosed() | PeerEof() | Closed():
            ours = _ended_by_recorded_end(event) != mirrored
            return Finish(delay) if ours else PeerFinish()
    return None


def _ended_by_recorded_end(event: Event) -> bool:
    if isinstance(event, Closed):
        return event.by in (Closer.LOCAL, Closer.LOCAL_RESET)
    return isinstance(event, HalfClosed)


def _repeats_an_end(step: Step, steps: list[Step]) -> bool:
    """Each side finishes sending once; a later close only confirms it."""
    return isinstance(step, (Finish, PeerFinish)) and any(type(s) is type(step) for s in steps)
