"""Waiting on UI state through the Pilot: a bounded wait for a condition, never a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

WAIT_SECONDS = 10.0


async def wait_until(pilot: Pilot[object], condition: Callable[[], bool], what: str) -> None:
    """Let the app process messages until ``condition`` holds, failing after a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)
