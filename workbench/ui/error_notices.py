"""Error toasts that a storm of resets cannot turn into a storm of toasts.

Every error is in the event log with its hint; the toast only tells the user that something
went wrong. So at most one toast is shown per ``GAP`` seconds: errors that arrive meanwhile are
counted, and the next toast says how many there were and explains the last one. Each toast
mounts widgets, and a port scanner can cause hundreds of resets a second: one toast per batch
still cost the screen most of its time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App

from workbench.describe import clean
from workbench.events import Error

GAP = 2.0
"""Seconds between two error toasts at least."""


class ErrorNotices:
    """Collects ``Error`` events and shows them as spaced-out toasts on ``app``."""

    def __init__(self, app: App[Any], clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        self._count = 0
        self._last: Error | None = None
        self._shown_at = -GAP
        self._due = False

    def add(self, errors: list[Error]) -> None:
        if not errors:
            return
        self._count += len(errors)
        self._last = errors[-1]
        if not self._due:
            self._due = True
            wait = self._shown_at + GAP - self._clock()
            if wait > 0:
                self._app.set_timer(wait, self._show)
            else:  # a timer of 0 s divides by zero in Textual's timer loop
                self._app.call_later(self._show)

    def _show(self) -> None:
        self._due = False
        last, count = self._last, self._count
        if last is None or not self._app.is_running:
            return
        self._count, self._last = 0, None
        self._shown_at = self._clock()
        more = f"{count} errors (see the log), the last: " if count > 1 else ""
        self._app.notify(
            f"{more}{clean(last.message)}\n{clean(last.hint)}",
            title="error",
            severity="error",
            markup=False,
        )
