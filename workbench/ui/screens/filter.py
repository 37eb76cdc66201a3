"""A small dialog to narrow the event log by connection, kind and text."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from workbench.events import EVENT_TYPES
from workbench.ui.event_store import EventStore


@dataclass(frozen=True)
class LogFilter:
    """None means 'everything' for that dimension."""

    conns: set[int] | None
    kinds: set[str] | None
    search: str


def parse_ids(text: str) -> set[int] | None:
    """'3 5, #7' -> {3, 5, 7}; empty -> None (all connections)."""
    words = text.replace(",", " ").replace("#", " ").split()
    if not words:
        return None
    if not all(word.isdigit() for word in words):
        raise ValueError("connection ids are numbers, e.g. 3 5 7")
    return {int(word) for word in words}


def parse_kinds(text: str) -> set[str] | None:
    words = text.replace(",", " ").split()
    if not words:
        return None
    unknown = [word for word in words if word not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}: use {' '.join(EVENT_TYPES)}")
    return set(words)


class FilterScreen(ModalScreen[LogFilter | None]):
    """Enter applies, Escape cancels; empty fields mean no restriction."""

    DEFAULT_CSS = """
    FilterScreen { align: center middle; }
    FilterScreen > Vertical {
        width: 70; height: auto; border: round $accent; background: $panel; padding: 1 2;
    }
    FilterScreen Input { margin-bottom: 1; }
    FilterScreen #filter-error { color: $text-error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#filter-conns"  # the app's own (the composer) is not on this screen

    def __init__(self, store: EventStore) -> None:
        super().__init__()
        self._store = store

    def compose(self) -> ComposeResult:
        store = self._store
        conns = " ".join(str(c) for c in sorted(store.conns)) if store.conns else ""
        kinds = " ".join(sorted(store.kinds)) if store.kinds else ""
        with Vertical():
            yield Label("Filter the event log (empty = everything; Enter applies)")
            yield Input(conns, placeholder="connections, e.g. 3 5", id="filter-conns")
            yield Input(kinds, placeholder=" ".join(EVENT_TYPES), id="filter-kinds")
            yield Input(store.search or "", placeholder="search text", id="filter-search")
            yield Static(id="filter-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            chosen = LogFilter(
                parse_ids(self.query_one("#filter-conns", Input).value),
                parse_kinds(self.query_one("#filter-kinds", Input).value),
                self.query_one("#filter-search", Input).value,
            )
        except ValueError as exc:
            self.query_one("#filter-error", Static).update(Text(str(exc)))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
