"""The only place trio and Textual meet.

How this works:
- trio runs in *guest mode* on Textual's asyncio loop (``trio.lowlevel.start_guest_run``):
  one thread, no locks, and a UI → engine → UI round trip costs a fraction of a millisecond.
- UI → engine: the UI calls this bridge's typed intents (``listen``, ``connect``, ``send``,
  ``close``, ``send_file``, ``start_recording``, ``replay`` …), never the engine itself, and
  no UI module but this one imports ``workbench.core``. Each intent is marshalled into trio with
  the run's ``TrioToken`` (the one thread-safe door into a trio run) and runs there.
- No UI code runs inside trio: whatever trio has to tell the UI (event batches, a recording's
  progress or failure, a replay's report) is posted as a message from here, like the events.
- engine → UI: the hub's batched subscription hands lists of events to ``post_message`` at
  most ~30 times a second, because one Textual message per network event stalls the screen.
  trio code never touches widgets: they may already be gone while trio shuts down.
- A crash of the trio run is not silent: ``done_callback`` posts ``EngineStopped`` with the
  error, and the app reports it. A crash in the engine does not cut its consumers short: they
  still drain the events the engine emitted while closing its sockets, so a recording in
  progress ends with every close and stop event and is closed properly before the run ends.
- Shutdown: ``stop`` cancels the run and waits for it, and must be awaited (from the app's
  unmount) before the asyncio loop closes, so every socket is closed and no task is abandoned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import outcome
import trio
from textual.message import Message
from textual.message_pump import MessagePump

from workbench.core import BadArgument, Engine, EventBatcher, NetworkError
from workbench.core.file_send import FileSend, Outcome, open_file
from workbench.core.hub import BATCH_INTERVAL
from workbench.events import Event
from workbench.recording.recorder import Recorder, RecordingStatus
from workbench.recording.replay import CancellableReplay, ReplayReport
from workbench.recording.writer import RecordingWriteError, RecordingWriter

__all__ = [
    "BATCH_INTERVAL",
    "EngineBridge",
    "EngineEvents",
    "EngineStopped",
    "FileSend",
    "IntentRejected",
    "Outcome",
    "RecordingFailed",
    "RecordingProgress",
    "ReplayFinished",
    "open_file",
]

UI_LAG_BYTES = 8 << 20
"""How far (in sent bytes) the screen may trail the engine before a file send waits for it."""


class EngineEvents(Message):
    """A batch of engine events, in order."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class EngineStopped(Message):
    """The trio run ended; ``error`` is what crashed it, if it crashed."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__()
        self.error = error


class IntentRejected(Message):
    """An intent was refused before touching the network (bad host or port)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class RecordingProgress(Message):
    """What is on disk so far; ``final`` once the recorder has stopped and closed its file."""

    def __init__(self, recorder: Recorder, status: RecordingStatus) -> None:
        super().__init__()
        self.recorder = recorder
        self.status = status
        self.final = recorder.finished  # read now, in trio: later it is always true


class RecordingFailed(Message):
    """The disk failed; recording stopped, the network session goes on."""

    def __init__(self, recorder: Recorder, reason: str) -> None:
        super().__init__()
        self.recorder = recorder
        self.reason = reason


class ReplayFinished(Message):
    """A replay started with ``EngineBridge.replay`` ended with this report."""

    def __init__(self, report: ReplayReport) -> None:
        super().__init__()
        self.report = report


class EngineBridge:
    """Hosts the engine inside the app's event loop and carries messages both ways."""

    def __init__(self, target: MessagePump) -> None:
        self._target = target
        self.engine: Engine | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._consumers: trio.Nursery | None = None
        self._batching = trio.CancelScope()
        self._ready: asyncio.Event = asyncio.Event()
        self._done: asyncio.Future[None] | None = None
        self._screen_moved: trio.Event | None = None

    async def start(self) -> None:
        """Start the guest run and wait until the engine accepts intents."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        trio.lowlevel.start_guest_run(
            self._main,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            run_sync_soon_not_threadsafe=loop.call_soon,
            done_callback=self._on_done,
            host_uses_signal_set_wakeup_fd=True,
        )
        await self._ready.wait()

    async def stop(self) -> None:
        """Cancel the run (closing every socket) and wait until trio has fully finished."""
        if self._done is None or self._done.done():
            return
        if self.engine is not None:
            self._in_trio(self.engine.nursery.cancel_scope.cancel)
        await asyncio.shield(self._done)

    # -- intents: the UI's one door into the engine ----------------------------------------

    def reserve_id(self) -> int:
        """An id for a listener or connection about to be asked for, so the UI can track it."""
        return self._engine().reserve_id()

    def listen(
        self, host: str, port: int, *, listener_id: int, echo: bool, close_on_eof: bool = False
    ) -> None:
        engine = self._engine()
        self._submit(
            partial(
                engine.listen,
                host,
                port,
                echo=echo,
                close_on_eof=close_on_eof,
                listener_id=listener_id,
            )
        )

    def stop_listening(self, listener_id: int) -> None:
        self._in_trio(self._engine().stop, listener_id)

    def set_echo(self, listener_id: int, on: bool) -> None:
        self._in_trio(self._engine().set_echo, listener_id, on)

    def connect(self, host: str, port: int, *, conn_id: int, connect_timeout: float) -> None:
        engine = self._engine()
        self._submit(
            partial(engine.connect, host, port, connect_timeout=connect_timeout, conn_id=conn_id)
        )

    def send(self, conn_id: int, data: bytes) -> None:
        self._in_trio(self._engine().send, conn_id, data)

    def broadcast(self, listener_id: int, data: bytes) -> None:
        """Send to every live peer of a listener."""
        self._in_trio(self._engine().broadcast, listener_id, data)

    def half_close(self, conn_id: int) -> None:
        """We are done sending (FIN); the peer may go on."""
        self._in_trio(self._engine().half_close, conn_id)

    def close(self, conn_id: int, *, reset: bool = False) -> None:
        """Close (FIN) or reset (RST) a connection, or give up a connect still under way."""
        self._in_trio(partial(self._engine().close, conn_id, reset=reset))

    def send_file(self, job: FileSend, shown_bytes_out: Callable[[int], int | None]) -> None:
        """Stream ``job``'s file to its connections, paced by the screen.

        The screen must see every byte as a ``send`` event, and the hub never holds the engine
        back for it; left alone, a fast file would pile up unhandled event batches without
        bound. So before each chunk the send waits while the screen (``shown_bytes_out``: bytes
        sent on a connection, as far as the screen has handled events) trails the engine by
        more than ``UI_LAG_BYTES`` on any target; ``events_shown`` wakes it.
        """
        job.pace = partial(self._screen_caught_up, job, shown_bytes_out)
        self._submit(partial(self._engine().send_file, job))

    def cancel_file_send(self, job: FileSend) -> None:
        """Stop reading the file; what is already queued still goes out."""
        self._in_trio(job.cancel)

    def events_shown(self) -> None:
        """The screen handled a batch of events: a file send waiting for it may go on."""
        if self._screen_moved is not None:
            self._in_trio(self._screen_moved.set)
            self._screen_moved = None

    def start_recording(self, writer: RecordingWriter) -> Recorder:
        """Record every event from now on into ``writer``; progress and failure come back as
        ``RecordingProgress`` and ``RecordingFailed`` messages."""
        target = self._target

        def progress(status: RecordingStatus) -> None:
            target.post_message(RecordingProgress(recorder, status))

        def failure(exc: RecordingWriteError) -> None:
            target.post_message(RecordingFailed(recorder, str(exc)))

        recorder = Recorder(writer, on_progress=progress, on_failure=failure)
        self.add_consumer(recorder.run)
        return recorder

    def stop_recording(self, recorder: Recorder) -> None:
        """Finish the file; a last ``RecordingProgress`` with ``final`` set says it is closed."""
        self._in_trio(recorder.stop)

    def replay(self, run: CancellableReplay, reply_to: MessagePump) -> None:
        """Run a replay in the engine's run; its report reaches ``reply_to`` as
        ``ReplayFinished`` (nothing arrives if it was cancelled)."""
        self._submit(partial(self._replay, run, reply_to))

    def cancel_replay(self, run: CancellableReplay) -> None:
        """Stop a replay, closing its connections."""
        self._in_trio(run.cancel)

    async def _replay(self, run: CancellableReplay, reply_to: MessagePump) -> None:
        report = await run.run()
        if report is not None:
            reply_to.post_message(ReplayFinished(report))

    async def _screen_caught_up(
        self, job: FileSend, shown_bytes_out: Callable[[int], int | None]
    ) -> None:
        while self._screen_lag(job, shown_bytes_out) > UI_LAG_BYTES:
            self._screen_moved = trio.Event()
            await self._screen_moved.wait()

    def _screen_lag(self, job: FileSend, shown_bytes_out: Callable[[int], int | None]) -> int:
        lag, engine = 0, self.engine
        for conn_id in job.conns:
            conn = engine.connections.get(conn_id) if engine else None
            shown = shown_bytes_out(conn_id)
            if conn is not None and shown is not None:
                lag = max(lag, conn.bytes_out - shown)
        return lag

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the engine is not running")
        return self.engine

    def _submit(self, intent: Callable[[], Awaitable[Any]]) -> None:
        """Run an async engine intent in trio; user-caused failures arrive as events."""
        self._in_trio(self._start_guarded, intent)

    def add_consumer(
        self, consume: Callable[[trio.MemoryReceiveChannel[Event]], Awaitable[Any]]
    ) -> None:
        """Feed every event from now on, losslessly, to ``consume`` (e.g. a recorder).

        The consumer ends by closing its channel, or on its own when the engine stops.
        """
        self._in_trio(self._start_consumer, consume)

    def _start_consumer(
        self, consume: Callable[[trio.MemoryReceiveChannel[Event]], Awaitable[Any]]
    ) -> None:
        assert self._consumers is not None and self.engine is not None
        self._consumers.start_soon(consume, self.engine.hub.subscribe())

    def _in_trio(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._token is None:
            raise RuntimeError("the engine is not running")
        try:
            self._token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            pass

    def _start_guarded(self, intent: Callable[[], Awaitable[Any]]) -> None:
        self._engine().nursery.start_soon(self._guarded, intent)

    async def _guarded(self, intent: Callable[[], Awaitable[Any]]) -> None:
        try:
            await intent()
        except NetworkError:
            pass  # already in the event stream, with its hint
        except BadArgument as exc:
            self._target.post_message(IntentRejected(str(exc)))

    async def _main(self) -> None:
        """Consumers outlive the engine: they drain its last events, then end with its stream.

        That holds when the engine crashes too: its error is held back until the consumers
        are done (the engine closed the stream on its way out), then raised.
        """
        engine = Engine()
        crash: Exception | None = None
        async with trio.open_nursery() as consumers:
            self._consumers = consumers
            consumers.start_soon(self._run_batcher, engine.hub.subscribe_batches(self._deliver))
            try:
                async with engine:
                    self.engine = engine
                    self._token = trio.lowlevel.current_trio_token()
                    self._ready.set()
                    await trio.sleep_forever()
            except Exception as exc:
                crash = exc
            self._batching.cancel()
        if crash is not None:
            raise crash

    async def _run_batcher(self, batcher: EventBatcher) -> None:
        with self._batching:
            await batcher.run()

    def _deliver(self, events: list[Event]) -> None:
        self._target.post_message(EngineEvents(events))

    def _on_done(self, result: outcome.Outcome[None]) -> None:
        error = None
        if isinstance(result, outcome.Error) and not isinstance(result.error, trio.Cancelled):
            error = result.error
        self._ready.set()
        self._target.post_message(EngineStopped(error))
        if self._done is not None and not self._done.done():
            self._done.set_result(None)
