"""Client sessions from the UI: opening and closing tabs, connecting, half-close and reset.

An object the app owns: the tabs' messages and the client keys reach the app, which hands them
here; this turns them into the bridge's intents and aims the composer at the tab concerned.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from workbench.endpoints import BadArgument, validate_host, validate_port
from workbench.settings import SettingsStore
from workbench.ui.bridge import EngineBridge
from workbench.ui.model import SessionModel
from workbench.ui.target import ClientTarget
from workbench.ui.target_control import TargetControl
from workbench.ui.widgets.client_tab import ClientSession
from workbench.ui.widgets.clients_pane import ClientsPane


class ClientControl:
    """The client tabs' intents, for the app."""

    def __init__(
        self,
        app: App[None],
        bridge: EngineBridge,
        model: SessionModel,
        clients: ClientsPane,
        target: TargetControl,
        *,
        settings: SettingsStore,
        remember: Callable[..., None],
        connect_timeout: float,
    ) -> None:
        self.app, self.bridge, self.model = app, bridge, model
        self.clients, self.target = clients, target
        self._settings, self._remember = settings, remember
        self.connect_timeout = connect_timeout

    async def open(self, host: str | None, port: str | None) -> ClientSession:
        """A new tab (by default to where we connected last), and the composer aimed at it."""
        saved = self._settings.settings
        port = saved.connect_port if port is None else port
        session = await self.clients.open(host or saved.connect_host, port)
        self.target.choose(ClientTarget(session))
        return session

    async def close_shown(self) -> None:
        """Close the tab shown and its connection; the composer goes to the next tab shown."""
        session = self.clients.active_session()
        if session is None:
            return
        if session.conn_id is not None:
            self.bridge.close(session.conn_id)
        await self.clients.close_active()
        next_session = self.clients.active_session()
        self.target.choose(ClientTarget(next_session) if next_session else None)

    def connect(self, session: ClientSession, host: str, port: str) -> None:
        try:
            host, port_number = validate_host(host), validate_port(port, allow_zero=False)
        except BadArgument as exc:
            self.app.notify(str(exc), title="cannot connect", severity="error")
            return
        self._remember(connect_host=host, connect_port=port)
        session.conn_id = self.bridge.reserve_id()
        self.clients.relabel(session)
        self.target.choose(ClientTarget(session))
        self.bridge.connect(
            host, port_number, connect_timeout=self.connect_timeout, conn_id=session.conn_id
        )

    def act(self, session: ClientSession | None, action: str) -> None:
        """Half-close, close or reset the tab's connection (if it has one)."""
        if session is None or session.conn_id is None:
            return
        if action == "half-close":
            self.bridge.half_close(session.conn_id)
        else:
            self.bridge.close(session.conn_id, reset=action == "reset")

    def show(self, changed: set[int]) -> None:
        """The tabs whose connections changed catch up with the model."""
        for session in self.clients.sessions():
            if session.conn_id is not None and session.conn_id in changed:
                view = self.model.connections.get(session.conn_id)
                if view is not None:
                    session.show(view)
                    self.clients.relabel(session)
