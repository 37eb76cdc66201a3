"""The only place trio and Textual meet.

How this works:
- trio runs in *guest mode* on Textual's asyncio loop (``trio.lowlevel.start_guest_run``):
  one thread, no locks, and a UI → engine → UI round trip costs a fraction of a millisecond.
- UI → engine: widgets call ``submit``/``call``; the intent is marshalled into trio with the
  run's ``TrioToken`` (the one thread-safe door into a trio run) and runs there as a task.
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
from typing import Any

import outcome
import trio
from textual.message import Message
from textual.message_pump import MessagePump

from workbench.core import BadArgument, Engine, EventBatcher, NetworkError
from workbench.events import Event


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

    def submit(self, intent: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run an async engine intent in trio; user-caused failures arrive as events."""
        self._in_trio(self._start_guarded, intent, args)

    def call(self, intent: Callable[..., Any], *args: Any) -> None:
        """Run a sync engine intent (send, close, …) in trio's context."""
        self._in_trio(intent, *args)

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

    def _start_guarded(self, intent: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        assert self.engine is not None
        self.engine.nursery.start_soon(self._guarded, intent, args)

    async def _guarded(self, intent: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await intent(*args)
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
