"""Replaying a recording against a live server, and saying whether it still answers the same.

How this works: each recorded conversation becomes a script seen from one end, an ordered list
of what that end sent (``Send``), what it received (``Expect``) and where each side finished
sending (``Finish``, ``PeerFinish``). The replayer plays the client's end. Before each send it
waits until as many bytes have come back as the recorded client had received by then (counting,
not comparing, so a server that answers differently is still driven through the conversation),
then pauses for the recorded think time scaled by the speed; a server that answered with fewer
bytes and then went quiet for ``settle`` seconds is not waited for any longer. A conversation is
over when the server closes, or when every expected byte is in and then nothing more for
``settle`` seconds, or at the timeout. What came back is compared as one byte stream per
connection, because TCP may cut and merge segments anywhere.

The scripts and the comparison are plain functions of the recording; only ``replay`` does I/O.
The mock server (``workbench.recording.mock``) plays the same scripts from the server's end.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

import trio

from workbench.core import Engine, NetworkError
from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Error,
    Event,
    HalfClosed,
    PeerEof,
    Received,
    Sent,
    Side,
)
from workbench.preview import escape_bytes, hex_dump, is_mostly_text
from workbench.recording.reader import Recording

PLACEHOLDER = b"<ignored>"
"""What every ``--ignore`` match becomes, on both sides, before the streams are compared."""

DIFF_LINE_LIMIT = 200
"""A diff longer than this is cut: past the first few screens a difference is already clear."""


# -- scripts --------------------------------------------------------------------------------


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

    def __str__(self) -> str:
        """Safe to print: the addresses come from a file that anyone may have written."""
        label = f"#{self.conn} ({self.local} → {self.remote})"
        return escape_bytes(label.encode("utf-8", "surrogatepass"))


def client_scripts(events: Iterable[Event]) -> list[Script]:
    """The client end of every recorded conversation.

    Taken from the recorded client connections; a recording of only our server side is played
    mirrored, so what the server received becomes what the client sends.
    """
    return _scripts(events, Side.CLIENT)


def server_scripts(events: Iterable[Event]) -> list[Script]:
    """The server end of every recorded conversation (mirrored clients when no server side)."""
    return _scripts(events, Side.PEER)


def _scripts(events: Iterable[Event], played: Side) -> list[Script]:
    conversations = _conversations(events)
    direct = [conv for conv in conversations if conv[0].side is played]
    chosen = direct or [conv for conv in conversations if conv[0].side is not played]
    scripts = [_script(conv, mirrored=not direct) for conv in chosen]
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


def _script(conv: list[Event], *, mirrored: bool) -> Script:
    opened = next(event for event in conv if isinstance(event, (Connected, Accepted)))
    steps: list[Step] = []
    last = opened.mono
    for event in conv:
        step = _step(event, mirrored=mirrored, delay=event.mono - last)
        if step is None or _repeats_an_end(step, steps):
            continue
        if isinstance(step, Expect) and steps and isinstance(steps[-1], Expect):
            steps[-1] = Expect(steps[-1].data + step.data)
        else:
            steps.append(step)
        last = event.mono
    local, remote = (opened.remote, opened.local) if mirrored else (opened.local, opened.remote)
    return Script(opened.conn, local, remote, opened.mono, tuple(steps))


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


# -- comparing ------------------------------------------------------------------------------


def mask(data: bytes, ignore: re.Pattern[bytes] | None) -> bytes:
    return data if ignore is None else ignore.sub(PLACEHOLDER, data)


def diff_streams(
    expected: bytes, received: bytes, ignore: re.Pattern[bytes] | None = None
) -> str | None:
    """None when the streams match once ``ignore`` is masked; otherwise a unified diff.

    Text is diffed by lines with unprintables escaped; anything else as ``hexdump -C`` lines,
    where an inserted byte shifts every later line (the diff then shows where it starts).
    """
    masked_expected, masked_received = mask(expected, ignore), mask(received, ignore)
    if masked_expected == masked_received:
        return None
    if is_mostly_text(expected) and is_mostly_text(received):
        before, after = _text_lines(masked_expected), _text_lines(masked_received)
    else:
        before, after = hex_dump(masked_expected), hex_dump(masked_received)
    lines = list(difflib.unified_diff(before, after, "expected", "received", lineterm=""))
    if len(lines) > DIFF_LINE_LIMIT:
        lines[DIFF_LINE_LIMIT:] = [f"… ({len(lines) - DIFF_LINE_LIMIT} more diff lines)"]
    return "\n".join(lines)


def _text_lines(data: bytes) -> list[str]:
    return [escape_bytes(line) for line in data.splitlines(keepends=True)]


# -- replaying ------------------------------------------------------------------------------


class Verdict(StrEnum):
    MATCH = "match"
    DIFFERS = "differs"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """How one recorded conversation went; ``message``/``hint`` are the engine's, if any."""

    script: Script
    verdict: Verdict
    received: bytes = b""
    diff: str = ""
    message: str = ""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    results: tuple[ConnectionResult, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(result.verdict is verdict for result in self.results)


class Inbox:
    """What one connection has received so far, for a task that paces itself on it."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ended = False  # the peer finished sending, or the connection is gone
        self.closed = False
        self.errors: list[Error] = []
        self._changed = trio.Event()

    def add(self, event: Event) -> None:
        if isinstance(event, Received):
            self.data += event.data
        elif isinstance(event, PeerEof):
            self.ended = True
        elif isinstance(event, Closed):
            self.ended = self.closed = True
        elif isinstance(event, Error):
            self.errors.append(event)
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, count: int, *, until_end: bool, settle: float) -> None:
        """Until ``count`` bytes (and the peer's end, if asked) are in, or the peer has ended.

        A peer that answered with fewer bytes than recorded is not waited for forever: once it
        sent something and then nothing for ``settle`` seconds, its answer counts as complete.
        """
        start = len(self.data)
        while not self.ended and (until_end or len(self.data) < count):
            if not await self._changes_within(settle if len(self.data) > start else math.inf):
                return

    async def settle(self, count: int, settle: float) -> None:
        """Until the peer has ended, or ``count`` bytes are in and then ``settle`` s of quiet."""
        while not self.ended:
            if not await self._changes_within(settle if len(self.data) >= count else math.inf):
                return

    async def wait_closed(self) -> None:
        while not self.closed:
            await self._changed.wait()

    async def _changes_within(self, seconds: float) -> bool:
        with trio.move_on_after(seconds):
            await self._changed.wait()
            return True
        return False


async def replay(
    recording: Recording,
    target: Address,
    *,
    speed: float | None = None,
    ignore: re.Pattern[bytes] | None = None,
    connect_timeout: float = 10.0,
    settle: float = 0.5,
    conversation_timeout: float = 30.0,
) -> ReplayReport:
    """Play every recorded client conversation against ``target``, concurrently.

    ``speed`` scales the recorded pauses and start offsets (2.0 = twice as fast); None skips
    them. ``conversation_timeout`` bounds each conversation once connected.
    """
    player = _Player(target, speed, ignore, settle, (connect_timeout, conversation_timeout))
    scripts = client_scripts(recording.events)
    async with trio.open_nursery() as nursery, Engine() as engine:
        nursery.start_soon(player.route, engine.hub.subscribe())
        async with trio.open_nursery() as conversations:
            for script in scripts:
                conversations.start_soon(player.play, engine, script)
        nursery.cancel_scope.cancel()
    return ReplayReport(tuple(player.results[script.conn] for script in scripts))


@dataclass
class _Player:
    target: Address
    speed: float | None
    ignore: re.Pattern[bytes] | None
    settle: float
    timeouts: tuple[float, float]  # connecting, then the whole conversation
    inboxes: dict[int, Inbox] = field(default_factory=dict)
    results: dict[int, ConnectionResult] = field(default_factory=dict)

    async def route(self, channel: trio.MemoryReceiveChannel[Event]) -> None:
        with channel:
            async for event in channel:
                self.inboxes.setdefault(event.conn, Inbox()).add(event)

    async def play(self, engine: Engine, script: Script) -> None:
        await self._pause(script.start)
        connect_timeout, conversation_timeout = self.timeouts
        try:
            conn = await engine.connect(*self.target, connect_timeout=connect_timeout)
        except NetworkError as exc:
            why = exc.explanation
            self.results[script.conn] = ConnectionResult(
                script, Verdict.ERROR, message=why.message, hint=why.hint
            )
            return
        inbox = self.inboxes.setdefault(conn.id, Inbox())
        with trio.move_on_after(conversation_timeout) as scope:
            await self._steps(engine, conn.id, inbox, script)
            await inbox.settle(len(script.expected), self.settle)
        engine.close(conn.id)
        self.results[script.conn] = self._judge(script, inbox, scope.cancelled_caught)

    async def _steps(self, engine: Engine, conn_id: int, inbox: Inbox, script: Script) -> None:
        expected = 0
        until_end = False
        for step in script.steps:
            if isinstance(step, Expect):
                expected += len(step.data)
            elif isinstance(step, PeerFinish):
                until_end = True
            else:
                await inbox.wait_for(expected, until_end=until_end, settle=self.settle)
                await self._pause(step.delay)
                if isinstance(step, Send):
                    engine.send(conn_id, step.data)
                else:
                    engine.half_close(conn_id)

    async def _pause(self, recorded: float) -> None:
        if self.speed is not None:
            await trio.sleep(recorded / self.speed)

    def _judge(self, script: Script, inbox: Inbox, timed_out: bool) -> ConnectionResult:
        received = bytes(inbox.data)
        diff = diff_streams(script.expected, received, self.ignore)
        verdict = Verdict.MATCH if diff is None else Verdict.DIFFERS
        result = ConnectionResult(script, verdict, received, diff or "")
        if inbox.errors:
            return replace(result, message=inbox.errors[0].message, hint=inbox.errors[0].hint)
        if timed_out:
            limit = self.timeouts[1]
            message = f"the conversation was still going after {limit:g} s"
            return replace(result, message=message, hint="allow more time with --timeout")
        return result
