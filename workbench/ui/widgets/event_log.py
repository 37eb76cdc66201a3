"""The live event log: one virtual row per engine event, built to survive floods.

Rows are drawn on demand through the line API (``render_line``) from an ``EventStore``, so a
million events cost a million list slots rather than a million widgets. What a row says comes
from ``workbench.ui.log_rows`` (escaped text, no Textual); it is placed into plain ``Segment``s:
peer bytes never reach the markup parser or the terminal as control sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.events import Event
from workbench.ui.event_store import PAYLOAD_CAP, EventStore
from workbench.ui.log_rows import KIND_CLASSES, row_cells, subtitle


class EventLog(ScrollView, can_focus=True):
    """Scrolling log of engine events with a cursor, hex/text previews and filters."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "toggle_hex", "Hex/Text"),
        Binding("f", "request_filter", "Filter"),
        Binding("end,G", "follow", "Follow"),
        Binding("enter", "select", "Payload"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-log--time",
        "event-log--conn",
        "event-log--meta",
        "event-log--cursor",
        *KIND_CLASSES.values(),
    }

    DEFAULT_CSS = """
    EventLog {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        border: tall $border-blurred;
        border-subtitle-color: $text-warning;
        &:focus { border: tall $border; }
        & > .event-log--time { color: $text-muted; }
        & > .event-log--conn { color: $text-secondary; }
        & > .event-log--meta { color: $text-muted; }
        & > .event-log--recv { color: $wb-recv; }
        & > .event-log--send { color: $wb-send; }
        & > .event-log--error { color: $wb-error; text-style: bold; }
        & > .event-log--accept { color: $wb-accept; }
        & > .event-log--connect { color: $wb-connect; }
        & > .event-log--close { color: $wb-close; }
        & > .event-log--listen { color: $wb-listen; }
        & > .event-log--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus > .event-log--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
        }
    }
    """

    hex_mode: reactive[bool] = reactive(False)
    """Show payload previews as hex pairs instead of escaped text (rows cache per mode)."""

    class Selected(Message):
        """The user chose an event (Enter or double click) to see its full payload."""

        def __init__(self, log: EventLog, event: Event) -> None:
            super().__init__()
            self.log = log
            self.event = event

        @property
        def control(self) -> EventLog:
            return self.log

    class FilterRequested(Message):
        """The user asked to change this log's filter; the app owns the dialog for that."""

        def __init__(self, log: EventLog) -> None:
            super().__init__()
            self.log = log  # the live log or a watched recording's: the one to filter

        @property
        def control(self) -> EventLog:
            return self.log

    def __init__(
        self,
        cap: int = 100_000,
        payload_cap: int = PAYLOAD_CAP,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = EventStore(cap, payload_cap)
        self.following = True
        self._cursor: int | None = None  # absolute position of the highlighted event
        self._steering = False  # True while we scroll, so only the user's scrolling pauses
        self._lines: LRUCache[tuple[int, int, bool], Strip] = LRUCache(1024)
        self._base_style: Style | None = None

    # -- feeding -----------------------------------------------------------------------------

    def add_events(self, batch: Sequence[Event]) -> None:
        """Append one batch from the engine; cost is O(batch) plus one screen of rows."""
        if not batch:
            return
        rows_before = self.store.visible_count
        removed = self.store.append(batch)
        if not self.is_mounted:
            return  # on_mount catches up with whatever arrived early
        self._resync()
        if removed and not self.following:
            # Keep the rows the user is reading in place while the oldest fall off above them.
            self._steer(lambda: self.scroll_to(y=self.scroll_y - removed, animate=False))
        if removed:
            self.refresh()
        else:
            # The old last row lost the cursor if we follow; below it are the new rows.
            start = max(0, rows_before - 1)
            self.refresh_lines(start, self.store.visible_count - start)

    def clear(self) -> None:
        """Start over empty (a watched recording rewound), keeping the cap and the filter."""
        old = self.store
        self.store = EventStore(old.cap, old.payload_cap)
        self.store.set_filter(old.conns, old.kinds)
        self.store.set_search(old.search or "")
        self._cursor = None
        self.following = True
        self._lines.clear()
        self._resync()
        self.refresh()

    def set_filter(self, conns: set[int] | None, kinds: set[str] | None) -> None:
        """Show only these connection ids and kinds; None means no restriction."""
        self.store.set_filter(conns, kinds)
        self._refilter()

    def set_search(self, text: str) -> None:
        """Show only rows containing ``text`` (case-insensitive, payloads as escaped text)."""
        self.store.set_search(text)
        self._refilter()

    def _refilter(self) -> None:
        """Keep the cursor on (or next to) its event; following keeps showing the newest."""
        if not self.is_mounted:
            return
        self._resync()
        if not self.following:
            self._scroll_to_cursor()
        self.refresh()

    def _resync(self) -> None:
        """Bring size, cursor, scroll position and subtitle in line with the store."""
        store = self.store
        count = store.visible_count
        self.virtual_size = Size(0, count)
        if not count:
            self._cursor = None
        elif self.following or self._cursor is None:
            self._cursor = store.position_of(count - 1)
        else:
            self._cursor = store.position_of(min(store.row_for(self._cursor), count - 1))
        if self.following:
            self._steer(lambda: self.scroll_end(animate=False, immediate=True, x_axis=False))
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        text = subtitle(self.store, self.following)
        if text != self.border_subtitle:
            self.border_subtitle = text

    # -- following and the cursor ------------------------------------------------------------

    @property
    def cursor_row(self) -> int | None:
        """The cursor's row under the current filter, or None while the log is empty."""
        return None if self._cursor is None else self.store.row_for(self._cursor)

    @property
    def cursor_event(self) -> Event | None:
        return None if self._cursor is None else self.store.event_at(self._cursor)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = self.is_vertical_scroll_end
        if not self._steering and self.following != at_end and self.store.visible_count:
            self.following = at_end
            self._resync()

    def _steer(self, scroll: Callable[[], object]) -> None:
        self._steering = True
        try:
            scroll()
        finally:
            self._steering = False

    def on_mount(self) -> None:
        self._resync()

    def on_resize(self) -> None:
        self._lines.clear()  # rows were cut to the old width
        self._resync()

    def _move_cursor(self, row: int) -> None:
        count = self.store.visible_count
        if not count:
            return
        old = self.cursor_row
        row = max(0, min(row, count - 1))
        self._cursor = self.store.position_of(row)
        self.following = row == count - 1
        self._update_subtitle()
        if old is not None:
            self.refresh_line(old)
        self.refresh_line(row)
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        row = self.cursor_row
        if row is not None:
            region = Region(0, row, self.scrollable_content_region.width, 1)
            self._steer(lambda: self.scroll_to_region(region, animate=False, immediate=True))

    def action_move(self, rows: int) -> None:
        self._move_cursor((self.cursor_row or 0) + rows)

    def action_page(self, pages: int) -> None:
        self.action_move(pages * self.scrollable_content_region.height)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_follow(self) -> None:
        self.following = True
        self._resync()
        self.refresh()

    def action_select(self) -> None:
        event = self.cursor_event
        if event is not None:
            self.post_message(self.Selected(self, event))

    def action_request_filter(self) -> None:
        self.post_message(self.FilterRequested(self))

    def action_toggle_hex(self) -> None:
        self.hex_mode = not self.hex_mode

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self.scroll_offset.y + offset.y
        if row < self.store.visible_count:
            self._move_cursor(row)
            if event.chain == 2:
                self.action_select()

    # -- drawing -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._lines.clear()  # theme or focus changed the colours baked into cached rows

    @property
    def base_style(self) -> Style:
        """The widget's own colours; cached because ``rich_style`` walks the DOM each call."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if row >= self.store.visible_count:
            return Strip.blank(width, self.base_style)
        position = self.store.position_of(row)
        if position == self._cursor:
            cursor = self.get_component_rich_style("event-log--cursor")
            return self._render_row(position, width, cursor)
        key = (position, width, self.hex_mode)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._render_row(position, width)
        return strip

    def row_text(self, row: int, width: int = 200) -> str:
        """A visible row as plain text, exactly as drawn (for copying and for tests)."""
        strip = self._render_row(self.store.position_of(row), width)
        return "".join(segment.text for segment in strip).rstrip()

    def _render_row(self, position: int, width: int, cursor: Style | None = None) -> Strip:
        """The cells ``log_rows`` makes, in their component classes' colours (or the cursor's)."""
        event = self.store.event_at(position)
        style = self.get_component_rich_style
        base = cursor or self.base_style
        segments = [
            Segment(text, cursor or (style(cell_class) if cell_class else None) or base)
            for text, cell_class in row_cells(event, width, self.hex_mode)
        ]
        return Strip(segments).crop_extend(0, width, base)
