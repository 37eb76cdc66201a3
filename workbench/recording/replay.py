"""Replaying a recording against a live server, and saying whether it still answers the same.

How this works: each recorded conversation becomes a script (``workbench.recording.scripts``),
and the replayer plays the client's end. Before each send it
waits until as many bytes have come back as the recorded client had received by then (counting,
not comparing, so a server that answers differently is still driven through the conversation),
then pauses for the recorded think time scaled by the speed. A conversation is over when the
server closes, or when every expected byte is in and then nothing more for ``settle`` seconds.

Bounded in time: one budget (``--timeout``) covers the whole replay, recorded pauses and
connecting included; whatever it cuts short is ``incomplete``, never a match. While bytes are
missing, a server that goes quiet (nothing received, nothing of ours taken) for ``idle`` seconds
is not waited for any longer. Bounded in memory: each answer is compared with the recording as
it arrives (``workbench.recording.compare``), reading stops once it is clearly longer than
recorded, and a diff covers only a window around the first difference. What came back is one
byte stream per connection, because TCP may cut and merge segments anywhere.

The scripts and the comparison are plain functions of the recording; this module does the I/O.
The mock server (``workbench.recording.mock``) plays the same scripts from the server's end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any

import trio

from workbench.core import Engine, NetworkError
from workbench.events import (
    Address,
    Closed,
    Closer,
    Error,
    Event,
    PeerEof,
    Received,
    Sent,
)
from workbench.recording.compare import Comparison, Stream
from workbench.recording.reader import Recording
from workbench.recording.scripts import Expect, PeerFinish, Script, Send, client_scripts, unplayable

DEFAULT_TIMEOUT = 60.0
"""Seconds for the whole replay, recorded pauses included."""

DEFAULT_IDLE = 2.0
"""Seconds to wait, while bytes are missing, with nothing received and nothing of ours taken."""

SETTLE = 0.5
"""Seconds of quiet after a complete answer before the conversation counts as over."""

ROUTE_BUFFER = 16
"""Events queued between the replay's engine and its comparison (each up to 256 KiB)."""


# -- replaying ------------------------------------------------------------------------------


class Verdict(StrEnum):
    MATCH = "match"
    DIFFERS = "differs"
    INCOMPLETE = "incomplete"  # cut short before it could be judged: never a match
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """How one recorded conversation went; ``message``/``hint`` say why, if anything went wrong.

    ``received`` and ``sent`` count bytes (the answer itself is not kept: it may be endless).
    """

    script: Script
    verdict: Verdict
    received: int = 0
    sent: int = 0
    diff: str = ""
    message: str = ""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    results: tuple[ConnectionResult, ...]
    skipped: tuple[str, ...] = ()  # conversations that could not be replayed, and why

    def count(self, verdict: Verdict) -> int:
        return sum(result.verdict is verdict for result in self.results)


class Stage(StrEnum):
    WAITING = "waiting for its recorded start"
    CONNECTING = "connecting"
    PLAYING = "playing"
    DONE = "done"


class Conversation:
    """One conversation being replayed: its progress, readable whenever the budget cuts it."""

    def __init__(self, script: Script, ignore: re.Pattern[bytes] | None) -> None:
        self.script = script
        self.expected_size = script.expected_size
        self.sent_size = script.sent_size
        self.answer = Comparison(
            Stream([step.data for step in script.steps if isinstance(step, Expect)]), ignore
        )
        self.stage = Stage.WAITING
        self.queued = 0  # bytes handed to the engine so far
        self.sent = 0  # bytes the kernel took
        self.ended = False  # the server finished sending, or the connection is gone
        self.gone = False  # the connection is closed
        self.hung_up = False  # closed by the server (FIN after ours, or reset), not by us
        self.errors: list[Error] = []
        self.failure: NetworkError | None = None  # connecting failed
        self.stalled = ""  # why we stopped waiting for bytes that never came
        self._changed = trio.Event()

    def add(self, event: Event) -> None:
        if isinstance(event, Received):
            self.answer.add(event.data)
        elif isinstance(event, Sent):
            self.sent += event.size
        elif isinstance(event, PeerEof):
            self.ended = True
        elif isinstance(event, Closed):
            self.ended = self.gone = True
            self.hung_up = event.by in (Closer.PEER, Closer.PEER_RESET)
        elif isinstance(event, Error):
            self.errors.append(event)
        self._changed.set()
        self._changed = trio.Event()

    @property
    def answered(self) -> bool:
        """Nothing more will come from the server that could change the verdict."""
        return self.ended or self.answer.overrun

    async def wait_for(self, count: int, *, until_end: bool, idle: float) -> None:
        """Until ``count`` bytes (and the server's end, if asked) are in, or it is over.

        A server that goes quiet for ``idle`` seconds (nothing received and nothing of ours
        taken) while bytes are still missing is not waited for any longer; that is noted.
        """
        while not self.answered and (until_end or self.answer.size < count):
            if not await self._changes_within(idle):
                self._note_stall(count, idle)
                return

    async def settle(self, idle: float, settle: float) -> None:
        """Until it is over, or the answer is complete and then ``settle`` s of quiet pass.

        Over: the connection closed, the answer overran, or the server has finished and every
        byte of ours is out (a server that half-closed still takes the rest of an upload).
        """
        while not (self.gone or self.answer.overrun or (self.ended and self.all_sent)):
            complete = self.answer.size >= self.expected_size and self.all_sent
            if not await self._changes_within(settle if complete else idle):
                if not complete:
                    self._note_stall(self.expected_size, idle)
                return

    @property
    def all_sent(self) -> bool:
        return self.sent >= self.sent_size

    def _note_stall(self, count: int, idle: float) -> None:
        if self.stalled:
            return
        if self.sent < self.queued:
            self.stalled = (
                f"the server took nothing more for {idle:g} s with {self.sent} of the "
                f"{self.sent_size} recorded bytes sent"
            )
        elif self.answer.size < count:
            self.stalled = (
                f"the server sent nothing more for {idle:g} s with {self.answer.size} of the "
                f"{count} bytes recorded by then received"
            )

    async def _changes_within(self, seconds: float) -> bool:
        with trio.move_on_after(seconds):
            await self._changed.wait()
            return True
        return False

    def judge(self, budget: float | None) -> ConnectionResult:
        """The verdict; ``budget`` is the --timeout when it ran out before the end.

        Never a match unless the conversation got through every recorded send.
        """
        base = ConnectionResult(
            self.script, Verdict.INCOMPLETE, self.answer.size, self.sent, "", "", ""
        )
        if self.failure is not None:
            why = self.failure.explanation
            return replace(base, verdict=Verdict.ERROR, message=why.message, hint=why.hint)
        error = self.errors[0] if self.errors else None
        # Cut while settling after a complete exchange: judged like a finished one.
        settling = self.stage is Stage.PLAYING and self.all_sent
        if self.stage is not Stage.DONE and not (
            settling and self.answer.size >= self.expected_size
        ):
            cut = replace(base, message=self._cut_short(budget), hint=TIMEOUT_HINT)
            if self.answer.differs:  # a difference is a difference, finished or not
                return replace(cut, verdict=Verdict.DIFFERS, diff=self.answer.diff() or "")
            return cut
        if self.answer.overrun:
            extra, recorded = self.answer.size - self.expected_size, self.expected_size
            message = (
                f"the server sent more than recorded: at least {extra} bytes beyond the "
                f"recorded {recorded}"
            )
            return replace(
                base, verdict=Verdict.DIFFERS, diff=self.answer.diff() or "", message=message
            )
        if self.sent < self.sent_size:
            if self.hung_up:  # before taking everything
                message = (
                    f"the connection closed after {self.sent} of the {self.sent_size} recorded "
                    "bytes were sent"
                )
                differs = replace(base, verdict=Verdict.DIFFERS, diff=self.answer.diff() or "")
                if error is not None:
                    return replace(differs, message=f"{message}: {error.message}", hint=error.hint)
                return replace(differs, message=message)
            message = self.stalled or (
                f"only {self.sent} of the {self.sent_size} recorded bytes were sent"
            )
            return replace(base, message=message, hint=IDLE_HINT if self.stalled else "")
        diff = self.answer.diff()
        result = replace(base, verdict=Verdict.DIFFERS if diff else Verdict.MATCH, diff=diff or "")
        if error is not None:
            return replace(result, message=error.message, hint=error.hint)
        if self.stalled:
            return replace(result, message=self.stalled, hint=IDLE_HINT)
        if self.stage is not Stage.DONE:
            return replace(result, message=self._cut_short(budget), hint=TIMEOUT_HINT)
        return result

    def _cut_short(self, budget: float | None) -> str:
        limit = f"the --timeout of {budget:g} s" if budget is not None else "the replay"
        if self.stage is Stage.WAITING:
            return f"{limit} ran out before this conversation's recorded start"
        if self.stage is Stage.CONNECTING:
            return f"{limit} ran out while connecting"
        return (
            f"{limit} ran out with {self.sent} of {self.sent_size} bytes sent and "
            f"{self.answer.size} of {self.expected_size} received"
        )


TIMEOUT_HINT = "allow more time with --timeout, or replay faster with --speed"
IDLE_HINT = "wait longer for a slow server with --idle"


async def replay(
    recording: Recording,
    target: Address,
    *,
    speed: float | None = None,
    ignore: re.Pattern[bytes] | None = None,
    budget: float = DEFAULT_TIMEOUT,
    idle: float = DEFAULT_IDLE,
    settle: float = SETTLE,
    connect_timeout: float = 10.0,
) -> ReplayReport:
    """Play every recorded client conversation against ``target``, concurrently.

    ``speed`` scales the recorded pauses and start offsets (2.0 = twice as fast); None skips
    them. ``budget`` (seconds) bounds the whole replay, recorded pauses included; ``idle`` is
    how long to wait for missing bytes while nothing moves. Cancelling it closes every socket.
    """
    events = recording.events
    player = _Player(target, speed, idle, settle, connect_timeout)
    # Scripts join every recorded answer: for a big recording, off the (UI's) event loop too.
    conversations = await trio.to_thread.run_sync(
        lambda: [Conversation(script, ignore) for script in client_scripts(events, merge=False)],
        abandon_on_cancel=True,
    )
    with trio.move_on_after(budget) as scope:
        async with trio.open_nursery() as nursery, Engine() as engine:
            # A short queue: the reader waits for the comparison instead of piling answers up.
            nursery.start_soon(player.route, engine, engine.hub.subscribe(ROUTE_BUFFER))
            async with trio.open_nursery() as playing:
                for conversation in conversations:
                    playing.start_soon(player.play, engine, conversation)
            nursery.cancel_scope.cancel()
    ran_out = budget if scope.cancelled_caught else None
    # Masking with --ignore scans whole answers: off the event loop (the UI's, in guest mode).
    results = await trio.to_thread.run_sync(
        lambda: tuple(conversation.judge(ran_out) for conversation in conversations),
        abandon_on_cancel=True,
    )
    return ReplayReport(results, tuple(unplayable(events)))


class CancellableReplay:
    """One ``replay`` that can be cancelled from outside its task, e.g. when its dialog closes.

    ``cancel`` must run in the trio run (the UI calls it through the bridge); it may come
    before ``run`` starts, which then returns None at once.
    """

    def __init__(self, recording: Recording, target: Address, **options: Any) -> None:
        self._scope = trio.CancelScope()
        self._run = partial(replay, recording, target, **options)

    async def run(self) -> ReplayReport | None:
        """The report, or None when cancelled (every socket is closed by then)."""
        with self._scope:
            return await self._run()
        return None

    def cancel(self) -> None:
        self._scope.cancel()


@dataclass
class _Player:
    target: Address
    speed: float | None
    idle: float
    settle: float
    connect_timeout: float
    playing: dict[int, Conversation] = field(default_factory=dict)  # by the engine's conn id

    async def route(self, engine: Engine, channel: trio.MemoryReceiveChannel[Event]) -> None:
        with channel:
            async for event in channel:
                conversation = self.playing.get(event.conn)
                if conversation is None:
                    continue
                was_over = conversation.answer.overrun
                conversation.add(event)
                if conversation.answer.overrun and not was_over:
                    engine.close(event.conn)  # stop reading: the answer is already too long

    async def play(self, engine: Engine, conversation: Conversation) -> None:
        script = conversation.script
        await self._pause(script.start)
        conversation.stage = Stage.CONNECTING
        conn_id = engine.reserve_id()
        self.playing[conn_id] = conversation
        try:
            await engine.connect(
                *self.target, connect_timeout=self.connect_timeout, conn_id=conn_id
            )
        except NetworkError as exc:
            conversation.failure = exc
            conversation.stage = Stage.DONE
            return
        conversation.stage = Stage.PLAYING
        try:
            await self._steps(engine, conn_id, conversation)
            await conversation.settle(self.idle, self.settle)
            conversation.stage = Stage.DONE
        finally:
            engine.close(conn_id)

    async def _steps(self, engine: Engine, conn_id: int, conversation: Conversation) -> None:
        expected = 0
        until_end = False
        for step in conversation.script.steps:
            if isinstance(step, Expect):
                expected += len(step.data)
            elif isinstance(step, PeerFinish):
                until_end = True
            else:
                await conversation.wait_for(expected, until_end=until_end, idle=self.idle)
                if conversation.answer.overrun:
                    return
                await self._pause(step.delay)
                if isinstance(step, Send):
                    engine.send(conn_id, step.data)
                    conversation.queued += len(step.data)
                else:
                    engine.half_close(conn_id)

    async def _pause(self, recorded: float) -> None:
        if self.speed is not None and recorded > 0:  # NaN is not > 0; inf sleeps to the budget
            await trio.sleep(recorded / self.speed)
