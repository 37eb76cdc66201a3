"""A mock server that answers the way the recorded server did, to test clients against.

How this works: every accepted client gets its own run of a recorded server script (round-robin
over the recorded conversations), concurrently with any others. At each ``Expect`` the mock
waits until the client has sent as many bytes as the recorded client had by then. It counts
rather than compares, so a request that differs in content is still answered and the difference
goes into the summary; a client that sent fewer bytes and then nothing for ``settle`` seconds is
answered too (real clients rarely send byte-identical requests). Then the recorded answer goes
out. Where the recorded server finished sending, the mock sends FIN; once the client has
finished too, the mock finishes as well, which closes the connection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from workbench.core import Engine, NetworkError
from workbench.events import Accepted, Address, Closed, Error, Event, PeerEof, Received, Sent
from workbench.recording.format import RecordingError
from workbench.recording.reader import Recording
from workbench.recording.scripts import Expect, Finish, PeerFinish, Script, server_scripts
from workbench.safe_text import escape_bytes

SHOWN_BYTES = 32
"""How much of a mismatching request a note quotes: enough to recognise it, one line."""


class Inbox:
    """What one client has sent the mock so far, for the script that paces itself on it."""

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


@dataclass
class MockSummary:
    """Running totals, readable at any moment (the mock only ever ends by being cancelled)."""

    clients: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    mismatches: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ServedClient:
    """One client's finished conversation, for a line in the mock's output."""

    remote: Address | None
    script: Script
    bytes_in: int
    bytes_out: int
    mismatches: tuple[str, ...]


async def serve_mock(
    recording: Recording,
    listen: Address,
    *,
    summary: MockSummary | None = None,
    on_event: Callable[[ServedClient], None] | None = None,
    settle: float = 0.5,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the recording's server side on ``listen`` until cancelled.

    The bound port goes to ``task_status.started`` (``listen`` may ask for port 0). Pass a
    ``summary`` to read the totals after cancelling; ``on_event`` hears of each client served.
    Raises RecordingError when the recording holds no conversation, NetworkError when the
    address cannot be listened on.
    """
    scripts = server_scripts(recording.events)
    if not scripts:
        raise RecordingError("the recording holds no conversation to serve", path=recording.path)
    mock = _Mock(scripts, summary or MockSummary(), on_event, settle)
    async with Engine() as engine:
        channel = engine.hub.subscribe()
        try:
            listener = await engine.listen(listen.host, listen.port)
        except NetworkError as exc:
            channel.close()
            failure = exc
        else:
            task_status.started(listener.local.port)
            await mock.serve(engine, listener.id, channel)
    # Only a failure gets here: serving ends by cancellation, which unwinds past this line.
    raise failure


class _Mock:
    def __init__(
        self,
        scripts: list[Script],
        summary: MockSummary,
        on_event: Callable[[ServedClient], None] | None,
        settle: float,
    ) -> None:
        self._scripts = scripts
        self._summary = summary
        self._on_event = on_event
        self._settle = settle
        self._inboxes: dict[int, Inbox] = {}
        self._sent: dict[int, int] = {}

    async def serve(
        self, engine: Engine, listener_id: int, channel: trio.MemoryReceiveChannel[Event]
    ) -> None:
        async with trio.open_nursery() as clients:
            with channel:
                async for event in channel:
                    if isinstance(event, Accepted) and event.listener == listener_id:
                        script = self._scripts[self._summary.clients % len(self._scripts)]
                        self._summary.clients += 1
                        self._inboxes[event.conn] = Inbox()
                        self._sent[event.conn] = 0
                        clients.start_soon(self._serve_client, engine, event, script)
                    self._count(event)

    def _count(self, event: Event) -> None:
        inbox = self._inboxes.get(event.conn)
        if inbox is None:
            return
        if isinstance(event, Received):
            self._summary.bytes_in += event.size
        elif isinstance(event, Sent):
            self._summary.bytes_out += event.size
            self._sent[event.conn] += event.size
        inbox.add(event)

    async def _serve_client(self, engine: Engine, accepted: Accepted, script: Script) -> None:
        inbox = self._inboxes[accepted.conn]
        notes = await self._converse(engine, accepted.conn, inbox, script)
        await inbox.wait_for(0, until_end=True, settle=math.inf)
        # Not close(): that would drop answers still queued. After both FINs the engine closes.
        engine.half_close(accepted.conn)
        await inbox.wait_closed()
        extra = len(inbox.data) - len(script.expected)
        if extra > 0:
            notes.append(f"sent {extra} bytes more than the recorded client")
        self._summary.mismatches += [f"{accepted.remote}: {note}" for note in notes]
        del self._inboxes[accepted.conn]
        served = ServedClient(
            accepted.remote, script, len(inbox.data), self._sent.pop(accepted.conn), tuple(notes)
        )
        if self._on_event is not None:
            self._on_event(served)

    async def _converse(
        self, engine: Engine, conn_id: int, inbox: Inbox, script: Script
    ) -> list[str]:
        notes: list[str] = []
        position = 0
        for step in script.steps:
            if isinstance(step, Expect):
                end = position + len(step.data)
                await inbox.wait_for(end, until_end=False, settle=self._settle)
                note = _mismatch(bytes(inbox.data[position:end]), step.data, position)
                notes += [note] if note else []
                position = end
            elif isinstance(step, PeerFinish):
                await inbox.wait_for(position, until_end=True, settle=math.inf)
            elif isinstance(step, Finish):
                engine.half_close(conn_id)
            else:
                engine.send(conn_id, step.data)
        return notes


def _mismatch(got: bytes, want: bytes, position: int) -> str | None:
    if got == want:
        return None
    if len(got) < len(want):
        return f"answered after {len(got)} of the {len(want)} bytes recorded from byte {position}"
    first = next(index for index, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    return (
        f"byte {position + first} differs: expected {escape_bytes(want[first:], SHOWN_BYTES)}"
        f" but got {escape_bytes(got[first:], SHOWN_BYTES)}"
    )
