"""Driving the real app headless: listening, waiting for state, and timing keys to the screen.

The headless driver writes nothing, but Textual still composes every update and hands it to
``App._display``. Wrapping that method on the instance gives the moment a change is actually
in a frame, which is what a user waits for, rather than the moment a handler ran.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.widgets import Button, Input

from tests.benchmarks.common import HOST, Child, drain, say
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.server_pane import ServerPane

SIZE = (120, 40)
Condition = Callable[[], bool]


class FrameClock:
    """Notes every composed frame; ``key`` times a key press to the first frame showing it."""

    def __init__(self, app: WorkbenchApp) -> None:
        self.app = app
        self.frames = 0
        self.first: float | None = None
        self._show = app._display
        self._waiting: list[tuple[Condition, asyncio.Future[float]]] = []
        app._display = self._display  # type: ignore[method-assign]

    def _display(self, screen: Any, renderable: Any) -> None:
        self._show(screen, renderable)
        if renderable is None:
            return
        now = time.monotonic()
        self.frames += 1
        if self.first is None:
            self.first = now
        still = []
        for condition, future in self._waiting:
            if future.done():
                continue
            if condition():
                future.set_result(now)
            else:
                still.append((condition, future))
        self._waiting = still

    def expect(self, condition: Condition) -> asyncio.Future[float]:
        """Registered before the cause, so a fast frame cannot slip past unseen."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        return future

    async def frame_after(
        self, start: float, future: asyncio.Future[float], within: float
    ) -> float | None:
        """Seconds from ``start`` to the awaited frame, or None when it never came."""
        try:
            return await asyncio.wait_for(future, within) - start
        except TimeoutError:
            return None

    async def key(self, key: str, shows: Condition, within: float = 10.0) -> float | None:
        """Post a key exactly as a terminal would (no Pilot idle waits) and time it to screen."""
        future = self.expect(shows)
        start = time.monotonic()
        driver = self.app._driver
        assert driver is not None
        driver.send_message(events.Key(key, key if len(key) == 1 else None))
        return await self.frame_after(start, future, within)


async def wait_for(condition: Condition, what: str, within: float = 30.0) -> float:
    """Poll app state from inside its loop; returns when it held, raises after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.005)
    return time.monotonic()


async def child_result(child: Child, within: float) -> dict[str, Any]:
    """A load child's RESULT, awaited without blocking the app's loop (the app must keep reading
    or the child's blocked sends would never let it finish)."""
    deadline = time.monotonic() + within
    while (line := child.out.poll("RESULT ")) is None:
        if child.out.closed:
            raise RuntimeError("load child ended without a RESULT: " + " | ".join(drain(child.err)))
        if time.monotonic() > deadline:
            child.stop()
            raise TimeoutError(f"load child gave no RESULT within {within:.0f} s")
        await asyncio.sleep(0.01)
    return dict(json.loads(line.split(" ", 1)[1]))


async def listen(app: WorkbenchApp, *, echo: bool = False) -> int:
    """Start the server pane's listener on a free port the way the UI does; returns the port."""
    if echo:
        pane = app.query_one(ServerPane)
        app.query_one("#echo", Button).press()
        await wait_for(lambda: pane.echo, "echo on")
    app._listen(HOST, "0")

    def listening() -> bool:
        view = app.model.listeners.get(app.listener_id) if app.listener_id else None
        return view is not None and view.listening and view.local is not None

    await wait_for(listening, "the listener")
    local = app.model.listeners[app.listener_id].local  # type: ignore[index]
    assert local is not None
    return local.port


async def typing_latencies(
    app: WorkbenchApp, clock: FrameClock, samples: int, gap: float = 0.02
) -> list[float | None]:
    """Type letters into the composer and time each one until a frame shows it in the Input."""
    field = app.query_one("#composer-input", Input)
    app.action_focus_composer()
    await wait_for(lambda: app.focused is field, "composer focus")
    out: list[float | None] = []
    for index in range(samples):
        want = len(field.value) + 1

        def shown(want: int = want) -> bool:
            return len(field.value) >= want

        out.append(await clock.key("abcdefghij"[index % 10], shown))
        await asyncio.sleep(gap)
    return out


def run_app(body: Callable[[WorkbenchApp, FrameClock], Awaitable[dict[str, Any]]]) -> None:
    """Run ``body`` against a headless app and report its result as this child's RESULT line."""

    async def main() -> None:
        app = WorkbenchApp(freeze_startup_objects=True)  # as the workbench command runs it
        clock = FrameClock(app)
        async with app.run_test(size=SIZE):
            say("RESULT", await body(app, clock))

    asyncio.run(main())


def ms(values: list[float | None]) -> list[float]:
    """Latencies in ms; a key whose frame never came counts as the probe's timeout (10 s)."""
    return [(v if v is not None else 10.0) * 1000 for v in values]
