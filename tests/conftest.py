"""Fixtures for every test: private config folders, and the engine with a lossless collector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from tests.core.helpers import Collector
from workbench.core import Engine


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
