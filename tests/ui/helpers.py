"""Waiting on UI state through the Pilot: a bounded wait for a condition, never a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

WAIT_SECONDS = 10.0


async def wait_until(
    pilot: Pilot[object],
    condition: Callable[[], bool],
    what: str,
    *,
    within: float = WAIT_SECONDS,
) -> None:
    """Let the app process messages until ``condition`` holds, failing after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)
