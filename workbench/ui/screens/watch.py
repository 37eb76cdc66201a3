"""Watching a recording: its events flow into a log of their own with the original timing.

A screen of its own so a recording never mixes with live traffic; the live session keeps
running underneath and Escape returns to it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from workbench.recording.playback import Playback
from workbench.recording.reader import Recording
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.widgets.event_log import EventLog
from workbench.wording import counted


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

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self.playback = Playback(recording.events)
        self._timer: Timer | None = None
        self._due_now = False
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
        if self.recording.warning:
            self.notify(self.recording.warning, title="recording", severity="warning")
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._due_now = False
        delay = self.playback.delay()
        if delay == 0.0:
            self._due_now = True  # a Timer cannot be zero; let the screen breathe, then play
            self.call_later(self._play_due_now)
        elif delay is not None:
            self._timer = self.set_timer(delay, self._play_due)
        self._show_status()

    def _play_due_now(self) -> None:
        if self._due_now:
            self._play_due()

    def _play_due(self) -> None:
        self._timer = None
        self._log.add_events(self.playback.take())
        self._schedule()

    def _show_status(self) -> None:
        playback = self.playback
        state = "paused" if playback.paused else ("finished" if playback.done else "playing")
        line = (
            f"{'⏸' if playback.paused else '▶'} {state} · {playback.position}/"
            f"{counted(len(playback.events), 'event')} · {playback.speed_label} · "
            "space pause · n step · +/- speed · ctrl+home/end jump · t re-send"
        )
        self._player.update(Text(line))
        self._player.set_class(playback.paused, "-paused")

    def action_toggle_pause(self) -> None:
        self.playback.paused = not self.playback.paused
        self._schedule()

    def action_step(self) -> None:
        self._log.add_events(self.playback.step())
        self._schedule()

    def action_faster(self) -> None:
        self.playback.faster()
        self._schedule()

    def action_slower(self) -> None:
        self.playback.slower()
        self._schedule()

    def action_rewind(self) -> None:
        self.playback.rewind()
        self._log.clear()
        self._schedule()

    def action_to_end(self) -> None:
        self._log.add_events(self.playback.rest())
        self._schedule()

    def action_replay(self) -> None:
        from workbench.ui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.recording))

    def on_event_log_selected(self, message: EventLog.Selected) -> None:
        message.stop()
        self.app.push_screen(PayloadScreen(message.event))
