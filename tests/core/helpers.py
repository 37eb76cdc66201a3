"""Helpers for tests of the engine on real sockets: a lossless collector to wait on, and bytes.

Shared by the core, recording and hostile tests; the ``engine_and_events`` fixture (conftest)
hands out an engine with a ``Collector`` subscribed to it.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from workbench.core import Engine
from workbench.events import Event, Received, Sent

WAIT_SECONDS = 10


class Collector:
    """Records every event from a lossless subscription and lets tests wait for one."""

    def __init__(self, receive: trio.MemoryReceiveChannel[Event]) -> None:
        self.events: list[Event] = []
        self._receive = receive
        self._changed = trio.Event()

    async def run(self) -> None:
        async with self._receive:
            async for event in self._receive:
                self.events.append(event)
                self._changed.set()
                self._changed = trio.Event()

    async def wait_for(
        self, predicate: Callable[[Event], bool], *, after: int = 0, within: float = WAIT_SECONDS
    ) -> Event:
        """The first event (from index ``after``) matching ``predicate``."""
        checked = after
        with trio.fail_after(within):
            while True:
                for event in self.events[checked:]:
                    if predicate(event):
                        return event
                checked = max(checked, len(self.events))
                await self._changed.wait()

    def of(self, conn: int, kind: str | None = None) -> list[Event]:
        return [e for e in self.events if e.conn == conn and (kind is None or e.kind == kind)]


Setup = tuple[Engine, Collector]


def payload(events: list[Event], kind: type[Sent] | type[Received]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, kind))


async def wait_bytes(
    events: Collector, conn: int, kind: type[Sent] | type[Received], size: int
) -> None:
    await events.wait_for(lambda _: len(payload(events.of(conn), kind)) >= size)


async def receive_exactly(stream: trio.SocketStream, size: int) -> bytes:
    data = b""
    with trio.fail_after(10):
        while len(data) < size:
            chunk = await stream.receive_some(65536)
            assert chunk, f"EOF after {len(data)} of {size} bytes"
            data += chunk
    return data
