"""Test seams, in the spirit of ``trio.testing``: events that tell a story, and a fake bridge.

``Story`` makes events in order, numbering them and advancing a clock by itself, so a test says
only what matters (who connected, what arrived, who closed and how) and every test builds events
the same way. ``FakeBridge`` stands in for the engine behind the UI: the app runs without trio or
sockets, the intents it sends are recorded, and a test delivers the events it wants the screen
to show, exactly as the real bridge would hand them over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any, TypedDict, TypeVar

from textual.message_pump import MessagePump

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
    Side,
    Stopped,
)
from workbench.recording.recorder import Recorder
from workbench.recording.replay import CancellableReplay, ReplayReport
from workbench.recording.writer import RecordingWriter
from workbench.ui.bridge import EngineBridge, EngineEvents, FileSend, ReplayFinished

SERVER = Address("127.0.0.1", 5000)
"""Where a story's server listens unless told otherwise."""

CLIENT = Address("127.0.0.1", 40000)
"""The first peer's address in a story; later peers count up from its port (and wrap)."""


class _Common(TypedDict):
    seq: int
    mono: float
    wall: float
    conn: int
    side: Side


E = TypeVar("E", bound=Event)


class Story:
    """Events in the order a test tells them, with ``seq``, ``mono`` and ``wall`` filled in.

    Each event happens ``step`` seconds after the one before. A connection's side is remembered
    from how it began (accepted: a peer; connecting or connected: a client), so later events on
    it need only its id.
    """

    def __init__(self, *, start: float = 1000.0, step: float = 0.001, wall: float = 1.7e9):
        self.events: list[Event] = []
        self._seq = count(1)
        self._mono, self._step, self._wall_offset = start, step, wall - start
        self._sides: dict[int, Side] = {}
        self._peers = count()

    def listening(self, conn: int, local: Address = SERVER, backlog: int = 128) -> Listening:
        self._sides[conn] = Side.LISTENER
        return self._add(Listening(**self._next(conn), local=local, backlog=backlog))

    def stopped(self, conn: int, local: Address = SERVER) -> Stopped:
        return self._add(Stopped(**self._next(conn), local=local))

    def accepted(
        self, conn: int, *, listener: int, local: Address = SERVER, remote: Address | None = None
    ) -> Accepted:
        self._sides[conn] = Side.PEER
        remote = remote or Address(CLIENT.host, CLIENT.port + next(self._peers) % 20_000)
        return self._add(
            Accepted(**self._next(conn), listener=listener, local=local, remote=remote)
        )

    def connecting(self, conn: int, remote: Address = SERVER, timeout: float = 10.0) -> Connecting:
        self._sides[conn] = Side.CLIENT
        return self._add(Connecting(**self._next(conn), remote=remote, timeout=timeout))

    def connected(self, conn: int, remote: Address = SERVER, local: Address = CLIENT) -> Connected:
        self._sides[conn] = Side.CLIENT
        return self._add(Connected(**self._next(conn), local=local, remote=remote))

    def sent(self, conn: int, data: bytes, *, pending: int = 0) -> Sent:
        return self._add(Sent(**self._next(conn), data=data, pending=pending))

    def received(self, conn: int, data: bytes) -> Received:
        return self._add(Received(**self._next(conn), data=data))

    def peer_eof(self, conn: int) -> PeerEof:
        return self._add(PeerEof(**self._next(conn)))

    def half_closed(self, conn: int) -> HalfClosed:
        return self._add(HalfClosed(**self._next(conn)))

    def closed(self, conn: int, by: Closer = Closer.PEER, *, unread: int = 0) -> Closed:
        return self._add(Closed(**self._next(conn), by=by, unread=unread))

    def error(
        self, conn: int, operation: str, message: str, hint: str = "", errno: int | None = None
    ) -> Error:
        common = self._next(conn)
        return self._add(
            Error(**common, operation=operation, message=message, hint=hint, errno=errno)
        )

    def _next(self, conn: int) -> _Common:
        """The fields every event carries, for the next event on ``conn``."""
        self._mono += self._step
        seq, mono = next(self._seq), self._mono
        side = self._sides.get(conn, Side.CLIENT)
        return {
            "seq": seq,
            "mono": mono,
            "wall": mono + self._wall_offset,
            "conn": conn,
            "side": side,
        }

    def _add(self, event: E) -> E:
        self.events.append(event)
        return event

    def write(self, path: Path) -> Path:
        """Write the story as a recording file at ``path``, its header timed to the first event.

        Everything in the file comes from the story, so it reads back the same every run.
        """
        first = self.events[0] if self.events else None
        wall = first.wall if first else self._mono + self._wall_offset
        mono = first.mono if first else self._mono
        with RecordingWriter.open(path, started_wall=wall, started_mono=mono) as writer:
            for event in self.events:
                writer.write(event)
        return path


@dataclass(frozen=True, slots=True)
class Intent:
    """One call the UI made on the bridge: its name and arguments."""

    name: str
    args: tuple[Any, ...] = ()


class FakeBridge(EngineBridge):
    """The bridge's typed door with no engine behind it: intents are recorded, not run.

    Pass ``FakeBridge`` as the app's ``bridge`` and call ``deliver`` to show events.
    """

    def __init__(self, target: MessagePump) -> None:
        super().__init__(target)
        self.intents: list[Intent] = []
        self._ids = count(1)
        self._delivered = 0  # batches handed to the screen
        self._handled = 0  # batches the screen said it has handled (events_shown)
        self._replays: list[tuple[CancellableReplay, MessagePump]] = []

    async def start(self) -> None:
        """Nothing to start: the screen works at once."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def deliver(self, events: Iterable[Event]) -> None:
        """Hand ``events`` to the screen as one batch, as the real bridge does."""
        self._delivered += 1
        self._target.post_message(EngineEvents(list(events)))

    async def show(self, events: Iterable[Event], *, within: float = 10.0) -> None:
        """``deliver`` the events and return once the screen has handled the batch.

        The app tells the bridge after each batch it handled (``events_shown``), as it tells
        the real one; this waits for that, failing after ``within`` seconds.
        """
        self.deliver(events)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._handled < self._delivered:
            if loop.time() > deadline:
                raise AssertionError("the screen did not handle the events it was given")
            await asyncio.sleep(0.005)

    def finish_replay(self, report: ReplayReport) -> None:
        """End the latest replay the UI started with ``report``, as the engine's would."""
        if not self._replays:
            raise AssertionError("no replay was started")
        _run, reply_to = self._replays.pop()
        reply_to.post_message(ReplayFinished(report))

    def reserve_id(self) -> int:
        return next(self._ids)

    def listen(
        self, host: str, port: int, *, listener_id: int, echo: bool, close_on_eof: bool = False
    ) -> None:
        self._note("listen", host, port, listener_id, echo, close_on_eof)

    def stop_listening(self, listener_id: int) -> None:
        self._note("stop_listening", listener_id)

    def set_echo(self, listener_id: int, on: bool) -> None:
        self._note("set_echo", listener_id, on)

    def connect(self, host: str, port: int, *, conn_id: int, connect_timeout: float) -> None:
        self._note("connect", host, port, conn_id, connect_timeout)

    def send(self, conn_id: int, data: bytes) -> None:
        self._note("send", conn_id, data)

    def broadcast(self, listener_id: int, data: bytes) -> None:
        self._note("broadcast", listener_id, data)

    def half_close(self, conn_id: int) -> None:
        self._note("half_close", conn_id)

    def close(self, conn_id: int, *, reset: bool = False) -> None:
        self._note("close", conn_id, reset)

    def send_file(self, job: FileSend, shown_bytes_out: Callable[[int], int | None]) -> None:
        self._note("send_file", job)

    def cancel_file_send(self, job: FileSend) -> None:
        self._note("cancel_file_send", job)

    def events_shown(self) -> None:
        """The screen handled a batch: ``show`` waits for this."""
        self._handled += 1

    def start_recording(self, writer: RecordingWriter) -> Recorder:
        self._note("start_recording", writer)
        return Recorder(writer)

    def stop_recording(self, recorder: Recorder) -> None:
        self._note("stop_recording", recorder)

    def replay(self, run: CancellableReplay, reply_to: MessagePump) -> None:
        self._note("replay", run)
        self._replays.append((run, reply_to))

    def cancel_replay(self, run: CancellableReplay) -> None:
        self._note("cancel_replay", run)

    def _note(self, name: str, *args: Any) -> None:
        self.intents.append(Intent(name, args))
