"""``python -m workbench`` with one fault injected, chosen by the first argument: test doubles.

Run as a script by tests/hostile/test_process_*.py:

- ``crash-engine``: the engine crashes when a second peer connects, as an ordinary exception
  raised by a task in the engine's nursery, which is what any engine bug looks like.
- ``hang-shutdown``: stopping the engine never finishes, so a clean shutdown hangs and only
  the watchdog can end the process (its grace shortened to keep the test fast).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from workbench.cli import launch as cli
from workbench.core import Engine
from workbench.events import Accepted
from workbench.ui.bridge import EngineBridge

CRASH_MESSAGE = "injected engine crash\nsecond line \x1b[31m"
SHORT_GRACE = 1.0

real_listen = Engine.listen


async def listen_then_crash_on_second_peer(self: Engine, *args: Any, **kwargs: Any) -> Any:
    listener = await real_listen(self, *args, **kwargs)
    events = self.hub.subscribe()

    async def crash_on_second_peer() -> None:
        accepted = 0
        async with events:
            async for event in events:
                accepted += isinstance(event, Accepted)
                if accepted == 2:
                    raise RuntimeError(CRASH_MESSAGE)

    self.nursery.start_soon(crash_on_second_peer)
    return listener


async def stop_forever(self: EngineBridge) -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    fault, arguments = sys.argv[1], sys.argv[2:]
    if fault == "crash-engine":
        Engine.listen = listen_then_crash_on_second_peer  # type: ignore[method-assign]
    elif fault == "hang-shutdown":
        EngineBridge.stop = stop_forever  # type: ignore[method-assign]
        cli.SHUTDOWN_GRACE = SHORT_GRACE
    else:
        raise SystemExit(f"unknown fault {fault!r}")
    sys.exit(cli.main(arguments))
