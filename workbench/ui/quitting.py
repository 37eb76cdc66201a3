"""How the app ends: on a signal the way Ctrl+Q does, after a crash with a crash file.

An object the app owns; the app's own hooks (``stop_on_signal``, ``on_ready``, Textual's
exception handler) hand over to it. A signal during start-up is acted on once the screen is
drawn: quitting any earlier tore widgets down under their ``on_mount``.
"""

from __future__ import annotations

import asyncio
import gc
import signal

from textual.app import App

from workbench.crash import report_crash


class Quitting:
    """Signals, crash reports and the start-up freeze, for the app."""

    def __init__(self, app: App[None], *, freeze_startup_objects: bool) -> None:
        self.app = app
        self._freeze = freeze_startup_objects
        self.crash_line: str | None = None
        """Set when we crashed: the one line for stderr, naming the file with the traceback."""
        self._stop_signal: int | None = None
        self._drawn = False

    def on_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP, SIGINT: quit the way Ctrl+Q does, with exit status 128 + signal.

        Ctrl+Q's way closes every socket, finishes the recording and restores the terminal.
        A repeated signal changes nothing (a closing terminal sends SIGHUP more than once),
        and neither does one after a crash, whose status stays.
        """
        if self._stop_signal is None and self.crash_line is None:
            self._stop_signal = signum
            if self._drawn:
                self.app.exit(return_code=128 + signum)

    def drawn(self) -> None:
        """Mounted and drawn: a signal that came earlier is acted on now."""
        self._drawn = True
        if self._freeze:
            # The tens of thousands of objects start-up made (widgets, styles, themes) live as
            # long as the app: keeping them out of the collector's full passes takes 70-200 ms
            # pauses out of a burst of new peers. Only for the real process: tests run many apps
            # in one process, and frozen objects are never freed.
            gc.freeze()
        if self._stop_signal is not None:
            self.app.exit(return_code=128 + self._stop_signal)

    def crashed(self, what: str, error: BaseException) -> bool:
        """Write the traceback to a crash file, once (True: this was the first crash)."""
        if self.crash_line is not None:
            return False
        self.crash_line = report_crash(what, error)
        return True

    def defer_sigcont(self) -> None:
        """Run Textual's SIGCONT handler from the event loop, and not once we are quitting.

        Textual resumes the screen from a signal handler, which runs between any two
        bytecodes. A terminal that closes sends SIGCONT right after SIGHUP, and resuming then
        raced our exit on a terminal that is gone, sometimes hanging the process for good.
        """
        textual_handler = signal.getsignal(signal.SIGCONT)
        if self.app.is_headless or not callable(textual_handler):
            return

        def resume() -> None:
            if self._stop_signal is None:
                textual_handler(signal.SIGCONT, None)

        asyncio.get_running_loop().add_signal_handler(signal.SIGCONT, resume)
