"""``python -m workbench`` whose engine crashes when a second peer connects: a test double.

Run as a script by tests/hostile/test_process_crash.py. The crash is an ordinary exception
raised by a task in the engine's nursery, which is what any engine bug looks like.
"""

from __future__ import annotations

import sys
from typing import Any

from workbench.cli import main
from workbench.core import Engine
from workbench.events import Accepted

CRASH_MESSAGE = "injected engine crash\nsecond line \x1b[31m"

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


Engine.listen = listen_then_crash_on_second_peer  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
