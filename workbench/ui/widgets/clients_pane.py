"""The clients pane: one tab per client session, or a hint while there are none.

It owns the tabs (opening, closing, their labels, the traffic each transcript shows) and says
which tab is shown (``TabShown``) and when Enter on the tabs' strip chose it (``Confirmed``);
the app decides what that means for the composer's target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TabbedContent, TabPane, Tabs

from workbench.events import Event
from workbench.ui.widgets.client_tab import ClientSession

NO_CLIENTS = "No client sessions yet.\nF6 opens a tab: type host and port, F8 connects."


class ClientsPane(Vertical):
    """The client session tabs."""

    class TabShown(Message):
        """A tab was shown (chosen with the mouse or the arrows, or the one left). Keys outrun
        messages: by the time this one arrives, that tab may be closed or another shown."""

        def __init__(self, session: ClientSession) -> None:
            super().__init__()
            self.session = session

    class Confirmed(Message):
        """Enter on the tabs' strip: this tab it is, back to the composer."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._opened = 0  # tabs opened so far: each gets the next number

    def compose(self) -> ComposeResult:
        yield Static(Text(NO_CLIENTS), id="no-clients")
        yield TabbedContent(id="clients")

    def on_mount(self) -> None:
        self.border_title = "Clients"
        self._show_hint()

    @property
    def _tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    def sessions(self) -> list[ClientSession]:
        return list(self.query(ClientSession))

    def active_session(self) -> ClientSession | None:
        return _session_in(self._tabs.active_pane)

    @property
    def has_tabs(self) -> bool:
        """From the tabs' own state, not a query of the screen: cheap enough for every batch."""
        return bool(self._tabs.active)

    async def open(self, host: str, port: str) -> ClientSession:
        """A new tab, shown, for a session to ``host`` and ``port`` (not yet connected)."""
        self._opened += 1
        session = ClientSession(host, port, number=self._opened)
        pane = TabPane(session.title, session, id=f"client-{self._opened}")
        tabs = self._tabs
        await tabs.add_pane(pane)
        tabs.active = pane.id or ""
        self._show_hint()
        return session

    async def close_active(self) -> None:
        """Take the shown tab down; the next one shows (if any)."""
        tabs = self._tabs
        if tabs.active:
            await tabs.remove_pane(tabs.active)
        self._show_hint()

    def relabel(self, session: ClientSession) -> None:
        """The tab's label follows its session's title (its connection and address)."""
        pane = session.parent
        tab = self._tabs.get_tab(pane.id) if pane and pane.id else None
        if tab is not None and str(tab.label) != session.title:
            tab.label = session.title

    def add_traffic(self, by_conn: Mapping[int, Sequence[Event]]) -> None:
        """Each tab's transcript takes the events of its connection."""
        for session in self.sessions():
            if session.conn_id is not None and session.conn_id in by_conn:
                session.add_traffic(by_conn[session.conn_id])

    def focus_tabs(self) -> None:
        self._tabs.query_one(Tabs).focus()

    def _show_hint(self) -> None:
        has_tabs = bool(self.sessions())
        self.query_one("#no-clients").display = not has_tabs
        self._tabs.display = has_tabs

    def on_tabbed_content_tab_activated(self, message: TabbedContent.TabActivated) -> None:
        """Only the pane still showing counts (F7 twice may have closed this one)."""
        message.stop()
        if message.pane is not message.tabbed_content.active_pane:
            return
        if session := _session_in(message.pane):
            self.post_message(self.TabShown(session))

    def on_key(self, event: events.Key) -> None:
        """Enter on the tabs' strip: this tab it is (as Enter in the peers table)."""
        if event.key == "enter" and isinstance(self.screen.focused, Tabs):
            event.stop()
            self.post_message(self.Confirmed())


def _session_in(pane: TabPane | None) -> ClientSession | None:
    """The tab's session; none while the pane is being taken down (its children go first)."""
    return next(iter(pane.query(ClientSession)), None) if pane is not None else None
