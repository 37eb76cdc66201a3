"""Re-sending a recording against a live server from the UI, with the diff shown here.

The replay itself runs in the engine's trio run (the app starts it), bounded like the CLI's:
one time budget, answers compared as they arrive, diffs of a small window. Closing the dialog
(Escape) cancels it, which closes its connections.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from workbench.endpoints import BadArgument, parse_endpoint
from workbench.events import Address
from workbench.recording.reader import Recording
from workbench.recording.replay import DEFAULT_TIMEOUT, ReplayReport, Verdict
from workbench.recording.report import report_lines
from workbench.ui.bridge import ReplayFinished


def report_text(report: ReplayReport) -> str:
    """Verdicts first, then each difference as a diff of expected against received."""
    return "\n".join(report_lines(report))


class ReplayScreen(ModalScreen[None]):
    """Target, speed and ignore pattern in; per-connection verdicts and diffs out."""

    DEFAULT_CSS = """
    ReplayScreen { align: center middle; }
    ReplayScreen > Vertical {
        width: 90%; height: 90%; border: round $accent; background: $panel; padding: 0 1;
    }
    ReplayScreen Horizontal { height: auto; }
    ReplayScreen #replay-target { width: 1fr; }
    ReplayScreen #replay-speed { width: 12; }
    ReplayScreen #replay-ignore { width: 1fr; }
    ReplayScreen #replay-status { height: auto; color: $text-muted; }
    ReplayScreen #replay-status.-error { color: $text-error; }
    ReplayScreen #replay-status.-ok { color: $text-success; }
    ReplayScreen TextArea { height: 1fr; }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close")]
    AUTO_FOCUS = "#replay-target"  # not the app's composer, which is behind this dialog

    class Run(Message):
        """Asks the app to run the replay in the engine's trio run."""

        def __init__(
            self,
            screen: ReplayScreen,
            target: Address,
            speed: float | None,
            ignore: re.Pattern[bytes] | None,
        ) -> None:
            super().__init__()
            self.screen = screen
            self.target = target
            self.speed = speed
            self.ignore = ignore
            self.budget = DEFAULT_TIMEOUT

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self.report: ReplayReport | None = None
        self._cancel: Callable[[], None] | None = None  # the running replay's, if any

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def started(self, cancel: Callable[[], None]) -> None:
        """The app started the replay; ``cancel`` stops it (and closes its sockets)."""
        self.cancel_replay()
        self._cancel = cancel

    def cancel_replay(self) -> None:
        if self._cancel is not None:
            cancel, self._cancel = self._cancel, None
            cancel()

    def on_unmount(self) -> None:
        """Escape, or the app quitting: a replay nobody can see any more must not go on."""
        self.cancel_replay()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Re-send {self.recording.path} to a live server, compare answers"))
            with Horizontal():
                yield Input(placeholder="target HOST:PORT", id="replay-target")
                yield Input("max", placeholder="speed", id="replay-speed")
            yield Input(placeholder="ignore regex (bytes that may differ)", id="replay-ignore")
            yield Static(Text("Enter runs the replay"), id="replay-status")
            yield TextArea(read_only=True, id="replay-report")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            request = self._request()
        except ValueError as exc:
            self._status(str(exc), "-error")
            return
        budget = f"at most {request.budget:g} s"
        self._status(f"replaying against {request.target} … ({budget}; Escape cancels)", "")
        self.post_message(request)

    def _request(self) -> ReplayScreen.Run:
        target_text = self.query_one("#replay-target", Input).value
        try:
            target = parse_endpoint(target_text, allow_zero=False)
        except BadArgument as exc:
            raise ValueError(str(exc)) from None
        speed_text = self.query_one("#replay-speed", Input).value.strip().lower()
        speed = None if speed_text in ("", "max") else float(speed_text)
        if speed is not None and not 0.25 <= speed <= 100:
            raise ValueError("speed is 0.25 to 100, or max")
        ignore_text = self.query_one("#replay-ignore", Input).value
        try:
            ignore = re.compile(ignore_text.encode()) if ignore_text else None
        except re.error as exc:
            raise ValueError(f"the ignore pattern is not a regular expression: {exc}") from None
        return self.Run(self, target, speed, ignore)

    def on_replay_finished(self, message: ReplayFinished) -> None:
        self._cancel = None
        self.report = message.report
        self.query_one("#replay-report", TextArea).text = report_text(message.report)
        report = message.report
        if not report.results:
            self._status("nothing in this recording can be replayed — see below", "-error")
        elif report.count(Verdict.ERROR):
            self._status("the replay failed — see below", "-error")
        elif report.count(Verdict.INCOMPLETE):
            self._status("some conversation did not finish — see below", "-error")
        elif report.count(Verdict.DIFFERS):
            self._status("the server answered differently — diff below", "-error")
        else:
            self._status("every connection matched", "-ok")

    def _status(self, text: str, css_class: str) -> None:
        status = self.query_one("#replay-status", Static)
        status.update(Text(text))
        status.set_classes(css_class)
