"""Shared helpers: a lossless event collector that tests wait on (never sleep on)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio

from workbench.core import Engine
from workbench.events import Event

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


@pytest.fixture(autouse=True)
def private_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings, saved messages and crash reports go to temp folders, never the real ones."""
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
async def engine_and_events() -> AsyncIterator[tuple[Engine, Collector]]:
    async with trio.open_nursery() as nursery:
        async with Engine() as engine:
            collector = Collector(engine.hub.subscribe())
            nursery.start_soon(collector.run)
            yield engine, collector
        nursery.cancel_scope.cancel()
