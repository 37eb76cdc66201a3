"""Our server from the UI: listening and stopping, echo, and what the server pane shows.

An object the app owns: the server pane's messages reach the app, which hands them here; this
turns them into the bridge's intents and renders the model into the pane. One listener at a
time is ours (``listener_id``, reserved before the engine says it listens); the peers an
earlier one accepted stay open after a stop, and "all peers" still means them too.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from workbench.endpoints import BadArgument, validate_host, validate_port
from workbench.events import Address, Side
from workbench.ui.bridge import EngineBridge
from workbench.ui.model import ListenerView, SessionModel
from workbench.ui.widgets.server_pane import ServerPane


class ServerControl:
    """The listener and the server pane, for the app."""

    def __init__(
        self,
        app: App[None],
        bridge: EngineBridge,
        model: SessionModel,
        *,
        clock: Callable[[], float],
        remember: Callable[..., None],
        more_to_show: Callable[[], None],
    ) -> None:
        self.app, self.bridge, self.model = app, bridge, model
        self._clock, self._remember, self._more_to_show = clock, remember, more_to_show
        self.listener_id: int | None = None
        self._bound_shown: int | None = None  # the listener whose address the fields show
        self._filled: tuple[str, str] | None = None  # (host, port) the fields were given
        self._asked: tuple[str, str] = ("", "")  # and what was asked for that listener

    @property
    def _pane(self) -> ServerPane:
        return self.app.query_one(ServerPane)

    def listener(self) -> ListenerView | None:
        """Our listener as the model has it (None before the engine says it listens)."""
        return self.model.listeners.get(self.listener_id) if self.listener_id else None

    def busy(self) -> bool:
        """Our listener is starting or listening: listening again would strand it and its peers."""
        if self.listener_id is None:
            return False
        view = self.model.listeners.get(self.listener_id)
        return view is None or view.listening

    def listen(self, host: str, port: str) -> bool:
        """Listen where asked (False: not a valid place, and the user is told why).

        Once listening, the settings keep what was asked (not a port that failed to bind), and
        the fields show the bound address (see ``show``). The fields show the real port when 0
        was asked, so that F5 after a stop listens again where the peers know to connect.
        Listening again from those fields keeps what was asked for them in the settings, not
        the port the system picked: 0 stays "any free port" for the next run.
        """
        try:
            host, port_number = validate_host(host), validate_port(port, allow_zero=True)
        except BadArgument as exc:
            self.app.notify(str(exc), title="cannot listen", severity="error")
            return False
        if (host, str(port_number)) != self._filled:
            self._asked = (host, port)
        self.listener_id = self.bridge.reserve_id()
        pane = self._pane
        pane.show_starting(str(Address(host, port_number)))
        self.bridge.listen(host, port_number, echo=pane.echo, listener_id=self.listener_id)
        return True

    def stop(self) -> None:
        if self.listener_id is not None:
            self.bridge.stop_listening(self.listener_id)

    def set_echo(self, on: bool) -> None:
        """Echo is the server pane's: its listener now, and the peers an earlier one accepted."""
        listeners = self.peer_listeners()
        if self.listener_id is not None:
            listeners.add(self.listener_id)
        for listener in listeners:
            self.bridge.set_echo(listener, on)

    def peer_listeners(self) -> set[int]:
        """The listeners whose peers are still open."""
        return {p.listener for p in self.model.live_peers(None) if p.listener is not None}

    def show(self, changed: set[int]) -> None:
        """The pane catches up with the model: status, bound address, and the peers changed."""
        pane, model = self._pane, self.model
        listener = self.listener()
        if self.listener_id in changed or changed & {p.id for p in model.peers_of(None)}:
            pane.show_listener(listener, len(model.live_peers(None)))
        if listener and listener.listening and listener.local and self._bound_shown != listener.id:
            self._bound_shown = listener.id
            self._filled = (listener.local.host, str(listener.local.port))
            pane.show_bound(listener.local)
            self._remember(host=self._asked[0], port=self._asked[1])  # it worked: keep it
        peers = [p for p in model.peers_of(None) if p.id in changed]
        pane.forget_peers(model.take_forgotten(), model.forgotten[Side.PEER])
        if pane.show_peers(peers, self._clock()):
            self._more_to_show()  # more peers to list next time

    def tick(self) -> None:
        """Durations advance with the clock, not with events."""
        if self.app.is_running:
            self._pane.show_durations(self.model.live_peers(None), self._clock())
