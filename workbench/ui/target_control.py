"""Where the composer sends: the chosen target, the composer's line about it, and the sending.

An object the app owns. The choice and the words are pure (``ui/target.py``); this keeps the
composer's target line, keys and refusal in step with them and sends to the bridge. The line
is refreshed for every batch that opens or closes anything, so it is never behind the
connections it names.
"""

from __future__ import annotations

from textual.app import App

from workbench.ui.bridge import EngineBridge
from workbench.ui.keys import key_for
from workbench.ui.model import SessionModel
from workbench.ui.server_control import ServerControl
from workbench.ui.target import (
    AllPeers,
    ClientTarget,
    PeerTarget,
    Target,
    TargetChoice,
    describe,
    target_conns,
    target_keys,
)
from workbench.ui.widgets.clients_pane import ClientsPane
from workbench.ui.widgets.composer import NO_TARGET, Composer


class TargetControl:
    """The composer's target, for the app."""

    def __init__(
        self,
        app: App[None],
        bridge: EngineBridge,
        model: SessionModel,
        server: ServerControl,
        clients: ClientsPane,
    ) -> None:
        self.app, self.bridge, self.model = app, bridge, model
        self.server, self.clients = server, clients
        self._choice = TargetChoice()

    @property
    def current(self) -> Target | None:
        return self._choice.current

    def choose(self, target: Target | None) -> None:
        self._choice.choose(target)
        self.refresh()

    def toggle_all(self) -> None:
        """F4: all peers, or back from all peers to the tab or peer chosen before."""
        self._choice.toggle_all(self.model, self.clients.active_session())
        self.refresh()

    def conns(self) -> list[int]:
        """The connections the target stands for (all peers: each live one)."""
        return target_conns(self.current, self.model)

    def keys(self) -> str:
        """The keys that change the target, as things stand: only what would work now."""
        # The tabs' own state, not a query of the screen: this runs for every batch that opens
        # or closes anything, and a query cost 3000 churning peers a third of their time.
        return target_keys(
            self.current,
            self.model,
            has_tabs=self.clients.has_tabs,
            listener_id=self.server.listener_id,
            key=key_for,
        )

    def refresh(self) -> None:
        """The composer says where Enter will send, how to change that, and why it refuses
        when nowhere is live."""
        composer = self.app.query_one(Composer)
        line = describe(self.current, self.model, self.server.listener())
        keys = self.keys()
        composer.target_label = line.label
        composer.target_keys = keys
        composer.no_target = f"{line.trouble}: {keys}" if line.trouble else NO_TARGET
        composer.can_send = line.live

    def send(self, data: bytes) -> None:
        match self.current:
            case ClientTarget(session) if session.conn_id is not None:
                self.bridge.send(session.conn_id, data)
            case PeerTarget(peer):
                self.bridge.send(peer, data)
            case AllPeers():
                for listener in sorted(self.server.peer_listeners()):
                    self.bridge.broadcast(listener, data)
