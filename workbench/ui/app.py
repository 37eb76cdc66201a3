"""The workbench screen: wires widgets to the engine bridge. It routes; it does not think.

State lives in ``SessionModel`` (folded from events), intents go to the engine through the
bridge, and each widget renders what it is given. Textual delivers keys and messages to the
app; it hands each to the part that owns the flow, composed here rather than inherited:
``ServerControl`` (listening, the server pane), ``ClientControl`` (client tabs, in the
``ClientsPane``), ``TargetControl`` (where Enter sends), ``FileSendControl``,
``RecordingControl``, ``Preferences`` (settings, messages, themes), ``Quitting`` (signals and
crashes) and ``RedrawThrottle`` (when the panes catch up). Keys live in ``ui/keys.py``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import Footer

from workbench.crash import EXIT_CRASH
from workbench.events import Address, Error, Event, Received, Sent
from workbench.recording.index import RecordingIndex
from workbench.recording.reader import Recording
from workbench.settings import config_dir
from workbench.themes import (
    event_variable_defaults,
)
from workbench.ui.bridge import (
    BATCH_INTERVAL,
    EngineBridge,
    EngineEvents,
    EngineStopped,
    IntentRejected,
    RecordingFailed,
    RecordingProgress,
)
from workbench.ui.client_control import ClientControl
from workbench.ui.error_notices import ErrorNotices
from workbench.ui.file_control import FILE_PROGRESS_INTERVAL, FileSendControl
from workbench.ui.keys import BINDINGS, LIVE_ACTIONS
from workbench.ui.model import SessionModel
from workbench.ui.preferences import Preferences
from workbench.ui.quitting import Quitting
from workbench.ui.recording_control import RecordingControl
from workbench.ui.redraw import RedrawThrottle
from workbench.ui.screens.filter import FilterScreen, LogFilter
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.screens.replay import ReplayScreen
from workbench.ui.screens.saved_messages import MessageChoice, MessagesScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.server_control import ServerControl
from workbench.ui.target import (
    AllPeers,
    ClientTarget,
    PeerTarget,
    Target,
)
from workbench.ui.target_control import TargetControl
from workbench.ui.widgets.client_tab import ClientSession
from workbench.ui.widgets.clients_pane import ClientsPane
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.server_pane import ServerPane


class WorkbenchApp(App[None]):
    """A terminal socket workbench."""

    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    AUTO_FOCUS = "#composer-input"

    BINDINGS = BINDINGS  # the footer and the help read them from the class
    LIVE_ACTIONS = LIVE_ACTIONS

    def __init__(
        self,
        *,
        listen: Address | None = None,
        connect: Iterable[Address] = (),
        connect_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        record: Path | bool = False,
        watch: Path | RecordingIndex | Recording | None = None,
        recordings_dir: Path | None = None,
        theme_name: str | None = None,
        config: Path | None = None,
        messages_file: Path | None = None,
        bridge: Callable[[MessagePump], EngineBridge] = EngineBridge,
        freeze_startup_objects: bool = False,
    ) -> None:
        super().__init__()
        self.preferences = Preferences(self, config or config_dir(), messages_file)
        self.settings, self.messages = self.preferences.settings, self.preferences.messages
        self.preferences.use_theme(theme_name or self.settings.theme)
        self.recordings_dir = recordings_dir or Path(self.settings.recordings_dir)
        self._startup_record = record
        self._startup_watch = watch
        self.model = SessionModel()
        self.bridge = bridge(self)  # tests pass workbench.testing.FakeBridge
        self.recording = RecordingControl(self, self.bridge, self.recordings_dir)
        self._startup_listen = listen
        self._startup_connect = list(connect)
        self.clients = ClientsPane(id="clients-box")
        self._error_notices = ErrorNotices(self)
        self.pane_redraw = RedrawThrottle(self, self._refresh_panes, settle=BATCH_INTERVAL)
        self.server = ServerControl(
            self,
            self.bridge,
            self.model,
            clock=clock,
            remember=self.preferences.remember,
            more_to_show=lambda: self.pane_redraw.due(),
        )
        self.target_control = TargetControl(
            self, self.bridge, self.model, self.server, self.clients
        )
        self.client_control = ClientControl(
            self,
            self.bridge,
            self.model,
            self.clients,
            self.target_control,
            settings=self.preferences.store,
            remember=self.preferences.remember,
            connect_timeout=connect_timeout or self.settings.connect_timeout,
        )
        self.file_sends = FileSendControl(
            self,
            self.bridge,
            self.model,
            target_conns=self.target_control.conns,
            sessions=self.sessions,
        )
        self.quitting = Quitting(self, freeze_startup_objects=freeze_startup_objects)

    def watch_theme(self, name: str) -> None:
        """Remember a theme picked while running; --theme alone only sets this run's theme."""
        if self.is_running:
            self.preferences.remember(theme=name)

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            listen = self._startup_listen  # --listen: the fields show where, from the start
            host = listen.host if listen else self.settings.host
            port = str(listen.port) if listen else self.settings.port
            yield ServerPane(host, port, id="server")
            yield self.clients
        payload_cap = self.settings.log_payload_mib << 20
        yield EventLog(self.settings.log_cap, payload_cap, id="log")
        yield Composer(id="composer")
        yield Footer()

    async def on_mount(self) -> None:
        self.quitting.defer_sigcont()
        await self.bridge.start()
        self.set_interval(1.0, self.server.tick)
        self.set_interval(FILE_PROGRESS_INTERVAL, self.file_sends.show_progress)
        if self._startup_record:
            record = self._startup_record
            self.recording.start(record if isinstance(record, Path) else None)
        startup, self._startup_watch = self._startup_watch, None  # the screen owns it now
        if isinstance(startup, Path):
            self.action_open_recording(startup)  # indexed in the picker, progress shown
        elif startup is not None:
            self.push_screen(WatchScreen(startup))
        composer = self.query_one(Composer)
        composer.mode, composer.line_ending = self.settings.composer_mode, self.settings.line_ending
        self.watch(
            composer, "mode", lambda m: self.preferences.remember(composer_mode=m), init=False
        )
        self.watch(
            composer, "line_ending", lambda e: self.preferences.remember(line_ending=e), init=False
        )
        for notice in self.preferences.notices:  # file names and reasons are text, not markup
            self.notify(notice, severity="warning", timeout=15, markup=False)
        if self._startup_listen is not None:
            self._listen(self._startup_listen.host, str(self._startup_listen.port))
        for address in self._startup_connect:
            session = await self.action_new_client(address.host, str(address.port))
            self.client_control.connect(session, address.host, str(address.port))
        self.target_control.refresh()

    async def on_unmount(self) -> None:
        await self.bridge.stop()

    # -- engine → UI --------------------------------------------------------------------------

    def on_engine_events(self, message: EngineEvents) -> None:
        """The log and transcripts take every batch; the panes catch up at most 10x/s."""
        if self.is_running:  # quitting: the engine's last events arrive while widgets go
            self._show_events(message.events)
        self.bridge.events_shown()  # a file send waiting for the screen to catch up goes on

    def _show_events(self, events: list[Event]) -> None:
        self.pane_redraw.changed(self.model.apply(events))
        self.query_one(EventLog).add_events(events)
        by_conn: dict[int, list[Event]] = defaultdict(list)
        for event in events:
            by_conn[event.conn].append(event)
        self.clients.add_traffic(by_conn)
        self._error_notices.add([event for event in events if isinstance(event, Error)])
        if any(not isinstance(event, Sent | Received) for event in events):
            self.target_control.refresh()  # a peer closing: the target line says so now, not later
        self.pane_redraw.due()

    def _refresh_panes(self, changed: set[int]) -> None:
        if not self.is_running:
            return
        self.client_control.show(changed)
        self.server.show(changed)
        self.target_control.refresh()

    def on_engine_stopped(self, message: EngineStopped) -> None:
        """The engine only stops by itself when it crashed; the recording is finished by now."""
        if message.error is not None and self.quitting.crashed(
            "the network engine crashed", message.error
        ):
            self.exit(return_code=EXIT_CRASH)

    # -- quitting: see ``Quitting`` -------------------------------------------------------------

    @property
    def crash_line(self) -> str | None:
        """Set when we crashed: the one line for stderr, naming the file with the traceback."""
        return self.quitting.crash_line

    def stop_on_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP, SIGINT: quit the way Ctrl+Q does, with exit status 128 + signal."""
        self.quitting.on_signal(signum)

    def on_ready(self) -> None:
        self.quitting.drawn()

    def _handle_exception(self, error: Exception) -> None:
        """Any other unexpected error: the traceback to a file, one line on stderr (``cli``).

        Textual's own handling (kept: it ends the app, and hands the error to Pilot tests)
        would print a long traceback with locals, which may hold a peer's bytes.
        """
        self.quitting.crashed("the user interface crashed", error)
        super()._handle_exception(error)
        self._return_code = EXIT_CRASH

    def _fatal_error(self) -> None:
        """Textual's, without the traceback printout: ours is in the crash file."""
        self.bell()
        self._close_messages_no_wait()

    # -- file sends and recordings: their controllers' ------------------------------------------

    def action_send_file(self) -> None:
        self.file_sends.choose()

    def action_stop_file(self) -> None:
        self.file_sends.stop()

    def action_toggle_recording(self) -> None:
        self.recording.toggle()

    def action_open_recording(self, path: Path | None = None) -> None:
        self.recording.open(path)

    def action_replay_recording(self) -> None:
        self.recording.pick_replay()

    def on_recording_progress(self, message: RecordingProgress) -> None:
        self.recording.progress(message)

    def on_recording_failed(self, message: RecordingFailed) -> None:
        self.recording.failed(message)

    def on_replay_screen_run(self, request: ReplayScreen.Run) -> None:
        self.recording.run_replay(request)

    def on_intent_rejected(self, message: IntentRejected) -> None:
        self.notify(message.reason, title="not sent", severity="error")

    # -- server intents -----------------------------------------------------------------------

    def on_server_pane_listen_requested(self, message: ServerPane.ListenRequested) -> None:
        if self.server.busy():
            return  # a second F5 that came before the first one's listener showed: one is enough
        self._listen(message.host, message.port)

    @property
    def listener_id(self) -> int | None:
        """Our listener (reserved before the engine says it listens)."""
        return self.server.listener_id

    def _listen(self, host: str, port: str) -> None:
        if self.server.listen(host, port) and self.target is None:
            self._set_target(AllPeers())

    def on_server_pane_stop_requested(self, _: ServerPane.StopRequested) -> None:
        self.server.stop()

    def on_server_pane_echo_toggled(self, message: ServerPane.EchoToggled) -> None:
        self.server.set_echo(message.on)

    def on_server_pane_peer_chosen(self, message: ServerPane.PeerChosen) -> None:
        chosen = message.conn
        self._set_target(AllPeers() if chosen is None else PeerTarget(chosen))
        if message.confirmed:
            self.query_one(Composer).focus_input()  # chosen with Enter: now type the message

    def on_server_pane_peer_action(self, message: ServerPane.PeerAction) -> None:
        self.bridge.close(message.conn, reset=message.reset)

    # -- client intents -----------------------------------------------------------------------

    def on_client_session_connect_requested(self, message: ClientSession.ConnectRequested) -> None:
        if message.session.is_attached:  # F8 then F7 at once: no connection for a closed tab
            self.client_control.connect(message.session, message.host, message.port)

    def on_client_session_action_requested(self, message: ClientSession.ActionRequested) -> None:
        self.client_control.act(message.session, message.action)

    # -- composer -----------------------------------------------------------------------------

    def on_composer_send(self, message: Composer.Send) -> None:
        self.target_control.send(message.data)

    def action_saved_messages(self) -> None:
        composer = self.query_one(Composer)
        screen = MessagesScreen(
            self.messages, composer.input.value, composer.mode, composer.line_ending
        )
        self.push_screen(screen, self._use_saved_message)

    def _use_saved_message(self, choice: MessageChoice | None) -> None:
        if choice is None:
            return
        composer, message = self.query_one(Composer), choice.message
        if choice.action == "edit":
            composer.mode, composer.line_ending = message.mode, message.line_ending
            composer.input.value = message.text
            composer.input.cursor_position = len(message.text)
            composer.focus_input()
        elif not composer.can_send:
            self.notify(composer.no_target, severity="warning", markup=False)
        else:
            self.target_control.send(message.data())

    # -- where the composer sends --------------------------------------------------------------

    @property
    def target(self) -> Target | None:
        """Where the composer sends now."""
        return self.target_control.current

    def on_clients_pane_tab_shown(self, message: ClientsPane.TabShown) -> None:
        """Keys outrun this message: F7 twice may have closed its tab by the time it comes.
        Only the tab still showing counts; closing a tab already aimed the composer."""
        if message.session is self.active_session():
            self._set_target(ClientTarget(message.session))

    def on_clients_pane_confirmed(self, _: ClientsPane.Confirmed) -> None:
        self.query_one(Composer).focus_input()  # chosen with Enter: now type the message

    def on_descendant_focus(self) -> None:
        if not self.screen_stack:
            return  # a focus change that arrives while the app is taken down has no screen
        focused = self.focused
        if focused is None:
            return
        session = next((a for a in focused.ancestors if isinstance(a, ClientSession)), None)
        if session is not None:
            self._set_target(ClientTarget(session))
        elif focused.id == "peers" and (peer := self.query_one(ServerPane).selected_peer):
            self._set_target(PeerTarget(peer))

    def _set_target(self, target: Target | None) -> None:
        self.target_control.choose(target)

    def action_target_all_peers(self) -> None:
        self.target_control.toggle_all()

    def action_focus_peers(self) -> None:
        """Ctrl+N: to the peers table; the peer under the cursor is the target (see
        ``on_descendant_focus``), arrows choose another, Enter goes back to the composer."""
        if not self.query_one(ServerPane).focus_peers():
            self.notify(f"no peers to pick: {self.target_control.keys()}", markup=False)

    def action_focus_tabs(self) -> None:
        """Ctrl+Y: to the client tabs' strip; the tab shown is the target, ←/→ choose another,
        Enter (or Escape) goes back to the composer."""
        session = self.active_session()
        if session is None:
            self.notify(f"no client tabs to pick: {self.target_control.keys()}", markup=False)
            return
        self.clients.focus_tabs()
        self._set_target(ClientTarget(session))

    # -- actions ------------------------------------------------------------------------------

    def sessions(self) -> list[ClientSession]:
        return self.clients.sessions()

    def active_session(self) -> ClientSession | None:
        return self.clients.active_session()

    async def action_new_client(
        self, host: str | None = None, port: str | None = None
    ) -> ClientSession:
        return await self.client_control.open(host, port)

    async def action_close_client(self) -> None:
        await self.client_control.close_shown()

    def action_toggle_connect(self) -> None:
        if session := self.active_session():
            session.request_connect_toggle()

    def action_half_close(self) -> None:
        self.client_control.act(self.active_session(), "half-close")

    def action_reset_client(self) -> None:
        self.client_control.act(self.active_session(), "reset")

    def action_toggle_listen(self) -> None:
        self.query_one(ServerPane).request_listen_toggle()

    def action_cycle_mode(self) -> None:
        self.query_one(Composer).cycle_mode()

    def action_cycle_line_ending(self) -> None:
        self.query_one(Composer).cycle_line_ending()

    def action_focus_log(self) -> None:
        self.query_one(EventLog).focus()

    def action_focus_composer(self) -> None:
        self.query_one(Composer).focus_input()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_event_log_selected(self, message: EventLog.Selected) -> None:
        self.push_screen(PayloadScreen(message.event))

    def on_event_log_filter_requested(self, message: EventLog.FilterRequested) -> None:
        log = message.log  # a watched recording's log filters itself, not the live one
        self.push_screen(FilterScreen(log.store), partial(self._apply_filter, log))

    @staticmethod
    def _apply_filter(log: EventLog, chosen: LogFilter | None) -> None:
        if chosen is not None:
            log.set_filter(chosen.conns, chosen.kinds)
            log.set_search(chosen.search)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Our keys act on the live screen: hidden and inert while anything is on top of it.

        A watched recording or a dialog covers the live screen; a key that acted there would
        change what cannot be seen (F6 opened tabs under the watch screen).
        """
        if action in self.LIVE_ACTIONS and len(self.screen_stack) > 1:
            return False
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if screen is not self.screen_stack[0]:
            return  # the palette over a watched recording offers no live-screen actions
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                action = getattr(self, f"action_{binding.action}")
                yield SystemCommand(binding.description, f"{binding.key.upper()}", action)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Event-kind colours for themes that do not set their own (Textual's built-ins)."""
        return {
            **super().get_theme_variable_defaults(),
            **event_variable_defaults(self.current_theme),
        }
