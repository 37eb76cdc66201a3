"""Watching a recording: its events flow into a log of their own with the original timing.

A screen of its own so a recording never mixes with live traffic; the live session keeps
running underneath and Escape returns to it.

How the timing works: ``Playback`` (pure, the time passed in) knows what is due; this screen
only wakes up, hands the log everything due in one batch (within FRAME_BUDGET, the rest next
frame), and sleeps until the next event is due: a frame while events are dense, the recorded
gap (up to MAX_SLEEP) while they are not, nothing while paused or finished. One wake-up is
pending at a time; every key that changes the pace cancels it and plays at once.

The screen watches an index (``workbench.recording.index``), never the whole file: the log
holds the index's events, whose big payloads are only excerpts, and the payload view reads the
bytes it shows from the file. The screen owns the index and closes it when it goes.
"""

from __future__ import annotations

import asyncio
from time import monotonic, perf_counter

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from workbench.describe import payload_of
from workbench.events import Event
from workbench.recording.format import RecordingError
from workbench.recording.index import RecordingIndex, payload_size
from workbench.recording.playback import Playback
from workbench.recording.reader import Recording
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.widgets.event_log import EventLog
from workbench.wording import counted

FRAME = 1 / 30
"""Seconds between hand-overs while events are due: the log redraws at most this often."""

FRAME_BUDGET = 0.010
"""Seconds of each frame spent taking events; what does not fit waits for the next frame."""

CHUNK = 512
"""Events taken at a time within a frame's budget."""

STATUS_EVERY = 0.25
"""Seconds between redraws of the status line while only its counters move."""

MAX_SLEEP = 1.0
"""Longest sleep through a recorded gap, so the status clock keeps moving."""


def recorded_time(seconds: float) -> str:
    """A position in a recording: ``0:07.3``, ``12:15.0``, ``1:02:03``."""
    tenths = int(max(seconds, 0.0) * 10)
    minutes, tenth_seconds = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{tenth_seconds // 10:02d}"
    return f"{minutes}:{tenth_seconds // 10:02d}.{tenth_seconds % 10}"


class WatchScreen(Screen[None]):
    """Plays ``recording`` into an event log; space pauses, n steps, +/- change speed."""

    DEFAULT_CSS = """
    WatchScreen #player { height: auto; padding: 0 1; background: $panel; color: $text; }
    WatchScreen #player.-paused { color: $text-warning; }
    WatchScreen EventLog { height: 1fr; }
    """

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/Play"),
        Binding("n", "step", "Step"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("ctrl+home", "rewind", "Start"),
        Binding("ctrl+end", "to_end", "End"),
        Binding("t", "replay", "Re-send to a server"),
        Binding("escape", "app.pop_screen", "Back to live"),
    ]

    def __init__(self, recording: RecordingIndex | Recording) -> None:
        super().__init__()
        if isinstance(recording, Recording):
            recording = RecordingIndex.of(recording)  # all in memory already
        self.recording = recording
        self.playback = Playback(recording.rows)
        self._wake: asyncio.TimerHandle | None = None
        self._status: tuple[object, float] = ((), -STATUS_EVERY)  # (what it said, when)
        self._gone = False  # unmounted: a wake-up already queued must not start another
        # Held, not queried: playback callbacks may still run while the screen is removed.
        self._log = EventLog(id="watch-log")
        self._player = Static(id="player")

    def compose(self) -> ComposeResult:
        yield self._player
        yield self._log
        yield Footer()

    def on_mount(self) -> None:
        log = self._log
        log.border_title = f"recording {self.recording.path}"
        log.focus()  # the log is what the keys move through: ↑/↓ and Enter for a payload
        if self.recording.warning:
            self.notify(self.recording.warning, title="recording", severity="warning")
        self._play()

    def on_unmount(self) -> None:
        self._gone = True
        self._cancel_wake()
        self.recording.close()  # the events go with the screen; the file goes now

    # -- pacing: one wake-up at a time, each hands over everything due (see Playback) ---------

    def _play(self) -> None:
        """Hand the log what is due now, within a frame's budget, then sleep until more is."""
        self._cancel_wake()
        if self._gone:
            return
        now = monotonic()
        started = perf_counter()
        batch: list[Event] = []
        while True:
            chunk = self.playback.take(now, CHUNK)
            batch.extend(chunk)
            if len(chunk) < CHUNK or perf_counter() - started > FRAME_BUDGET:
                break
        self._log.add_events(batch)
        latest = self._show_status(now)
        delay = self.playback.delay(now)
        if delay is not None:
            # Never sooner than a frame (the screen draws and keys get in between), never
            # later than a second (the status clock moves on through long recorded gaps).
            longest = MAX_SLEEP if latest else STATUS_EVERY
            self._wake = asyncio.get_running_loop().call_later(
                min(max(delay, FRAME), longest), self._woken
            )

    def _woken(self) -> None:
        # An asyncio callback, not a Textual timer: it fires however late the loop gets to it
        # (a late one-shot Timer is skipped for good). The work runs as a message of ours.
        self._wake = None
        self.call_later(self._play)

    def _cancel_wake(self) -> None:
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None

    def _show_status(self, now: float) -> bool:
        """Say where playback stands; False when only counters moved and that waits a little
        (the next wake-up comes within STATUS_EVERY then)."""
        playback = self.playback
        playing = not (playback.done or playback.paused or playback.rushing)
        if playback.rushing:
            state = "⏩ jumping to the end"
        elif playback.done:
            state = "■ finished"
        elif playback.paused:
            state = "⏸ paused"
        else:
            state = "▶ playing"
        speed = playback.speed_label
        behind = playing and playback.behind(now)
        mode = (state, speed, behind)
        shown_mode, shown_at = self._status
        if playing and mode == shown_mode and now - shown_at < STATUS_EVERY:
            return False  # only the counters moved: not worth redrawing the line every frame
        if playing:
            pace = playback.pace(now)
            if playback.speed is None and pace is not None:
                speed = f"max ({pace:.3g}x)"
            elif behind:
                speed += " · can't keep up: playing" + ("" if pace is None else f" at {pace:.3g}x")
        self._player.update(
            Text(
                f"{state} · {playback.position}/{counted(len(playback.events), 'event')} · "
                f"{recorded_time(playback.elapsed(now))} of {recorded_time(playback.duration)}"
                f" · {speed} · space pause · n step · +/- speed · ctrl+home/end jump · t re-send"
            )
        )
        self._player.set_class(playback.paused and not playback.done, "-paused")
        self._status = (mode, now)
        return True

    def action_toggle_pause(self) -> None:
        self.playback.toggle_pause(monotonic())
        self._play()

    def action_step(self) -> None:
        self._log.add_events(self.playback.step(monotonic()))
        self._play()

    def action_faster(self) -> None:
        self.playback.faster(monotonic())
        self._play()

    def action_slower(self) -> None:
        self.playback.slower(monotonic())
        self._play()

    def action_rewind(self) -> None:
        self.playback.rewind(monotonic())
        self._log.clear()
        self._play()

    def action_to_end(self) -> None:
        self.playback.to_end(monotonic())
        self._play()

    def action_replay(self) -> None:
        from workbench.ui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.recording.whole()))

    def on_event_log_selected(self, message: EventLog.Selected) -> None:
        message.stop()
        data = payload_of(message.event)
        if data is None:
            self.app.push_screen(PayloadScreen(message.event))
            return

        def read_at(offset: int, length: int) -> bytes:
            """Read from the file when the payload view asks: it asks a page at a time."""
            try:
                return self.recording.read(data, offset, length)
            except RecordingError as exc:
                self.notify(str(exc), title="cannot read the payload", severity="error")
                return b""

        self.app.push_screen(PayloadScreen(message.event, read_at, payload_size(data)))
