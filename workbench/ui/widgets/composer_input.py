"""The composer's one-line input, where a key costs about the same with 10 bytes or 10 MB typed.

How this works. Textual's ``Input`` measures its whole value on every key: the cursor's cell
offset re-measures the text before it, the scroll width the whole text, and each frame renders
the whole value to segments and then crops them to the few dozen cells on screen. With a
megabyte typed or pasted that is 100-250 ms a key. ``ComposerInput`` keeps the value's cell
widths in ``CellRuns``, pieces of about ``PIECE`` characters with their widths, so an edit
re-measures the piece it falls in (Input edits go through ``replace``, which says where); any
other change of value re-measures it once. Drawing starts at the first character on screen and
stops at the right edge. What is left per key is copying the string (C speed) and a walk over
the pieces' widths (a thousand for a megabyte).

Every character takes the cells it is drawn in, decided here per character (``shown``): control
characters are drawn as their Unicode control pictures (a tab as ``␉``, ESC as ``␛``) instead
of reaching the terminal or being expanded to a width that depends on what came before, and
whatever has no width of its own or an uncertain one (format characters, unplaceable ones, lone
surrogates) as ``�``. Combining marks stay on the character before them, at most
``MAX_MARKS_PER_BASE``. The value itself is never changed: what is typed is what is sent.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widgets import Input

from workbench.safe_text import MAX_MARKS_PER_BASE, is_unplaceable

PIECE = 1024
"""Characters measured together; an edit re-measures about this many (twice at a boundary)."""
REPLACEMENT = "\ufffd"
_PLAIN = re.compile(r"[ -~]*")
"""Printable ASCII: one cell a character, drawn as itself (the common case, checked in C)."""
_DRAW_LIMIT = 8
"""Characters looked at per cell of the row at most, so a run of marks cannot make a frame
walk the whole value."""


@functools.lru_cache(maxsize=8192)
def shown(char: str) -> tuple[str, int]:
    """How one character of the input is drawn, and how many cells that takes."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code), 1  # ␀ … ␟
    if code == 0x7F:
        return "\u2421", 1  # ␡
    if char.isprintable() and not is_unplaceable(char):
        width = get_character_cell_size(char)
        if width or unicodedata.category(char) in ("Mn", "Me"):
            return char, width
    return REPLACEMENT, 1


def measure(text: str, start: int, end: int) -> int:
    """Cells that ``text[start:end]`` takes."""
    if _PLAIN.fullmatch(text, start, end):
        return end - start
    return sum(shown(char)[1] for char in text[start:end])


class CellRuns:
    """The cell widths of one string, in pieces, so that a local edit is measured locally."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.lengths: list[int] = []
        self.widths: list[int] = []
        self.total = 0
        """Cells the whole text takes."""
        self.measured = 0
        """Characters measured so far (for tests: the work an edit costs)."""
        self.rebuild(text)

    def rebuild(self, text: str) -> None:
        """Measure ``text`` from scratch."""
        self.text = text
        self.lengths, self.widths = self._measured(0, len(text))
        self.total = sum(self.widths)

    def edit(self, start: int, end: int, inserted: int, text: str) -> None:
        """``text`` is the old text with ``[start:end]`` replaced by ``inserted`` characters."""
        if not self.lengths:
            self.rebuild(text)
            return
        first = last = 0
        first_start = last_end = position = 0
        found = False
        final = len(self.lengths) - 1
        for index, length in enumerate(self.lengths):
            piece_end = position + length
            if not found and (start < piece_end or index == final):
                first, first_start, found = index, position, True
            if found and (end <= piece_end or index == final):
                last, last_end = index, piece_end
                break
            position = piece_end
        if last < final and last_end - first_start < PIECE // 2:
            last_end += self.lengths[last + 1]  # fold a small piece into the next one
            last += 1
        self.text = text
        lengths, widths = self._measured(first_start, last_end + inserted - (end - start))
        self.total += sum(widths) - sum(self.widths[first : last + 1])
        self.lengths[first : last + 1] = lengths
        self.widths[first : last + 1] = widths
        if len(self.lengths) > 4 * (len(text) // PIECE + 1):
            self.rebuild(text)  # edits all over left many small pieces: even them out, once

    def _measured(self, start: int, end: int) -> tuple[list[int], list[int]]:
        self.measured += end - start
        lengths: list[int] = []
        widths: list[int] = []
        for piece in range(start, end, PIECE):
            piece_end = min(piece + PIECE, end)
            lengths.append(piece_end - piece)
            widths.append(measure(self.text, piece, piece_end))
        return lengths, widths

    def cell_of(self, index: int) -> int:
        """Cells before character ``index``."""
        position = cells = 0
        for length, width in zip(self.lengths, self.widths, strict=True):
            if index < position + length:
                self.measured += index - position
                return cells + measure(self.text, position, index)
            position += length
            cells += width
        return cells

    def index_at(self, cell: int) -> tuple[int, int]:
        """The character drawn over ``cell`` (marks before it belong to the one before) and
        the cell it starts at; past the end, the text's length and its total width."""
        position = cells = 0
        text = self.text
        for length, width in zip(self.lengths, self.widths, strict=True):
            if cell < cells + width:
                if width == length and _PLAIN.fullmatch(text, position, position + length):
                    return position + cell - cells, cell
                for index in range(position, position + length):
                    self.measured += 1
                    char_width = shown(text[index])[1]
                    if cell < cells + char_width:
                        return index, cells
                    cells += char_width
            position += length
            cells += width
        return len(text), cells


class ComposerInput(Input):
    """The composer's line. Its keys act in the order they were typed, a paste goes to the
    composer, which keeps every pasted line, and a key costs the same whatever the length.

    Textual runs a focused widget's key bindings only once the key has bubbled up to the app,
    so in a burst (keys pasted by a terminal, fast typing, ``tmux send-keys``) Enter, Backspace
    or Home would act after the characters typed *after* them: ``msg1 Enter msg2 Enter`` sent
    ``msg1msg2`` then a lone line ending. Running this line's bindings and the composer's
    (Up/Down) right here, between the characters around them, keeps the order.
    """

    def __init__(
        self,
        submit: Callable[[], None],
        paste: Callable[[str], None],
        *,
        placeholder: str,
        id: str,
    ) -> None:
        self.cells = CellRuns()
        """The value's cell widths, brought up to date on first use after a change."""
        self._edit: tuple[str, int, int, int] | None = None  # (before, start, end, inserted)
        self.drawn = 0
        """Characters looked at by ``render_line`` so far (for tests: the work a frame costs)."""
        # validate_on=(): without validators Input would clear our -invalid on blur.
        super().__init__(id=id, compact=True, placeholder=placeholder, validate_on=())
        self._submit = submit
        self._paste = paste

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input inserts it, in order
        for owner in (self, self.query_ancestor("Composer")):
            for binding in owner._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, owner):
                    event.stop()  # done: the app must not run it again
                    return

    async def action_submit(self) -> None:
        self._submit()  # now, with the text as typed so far; not from a message handled later

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input's own paste keeps only the first line
        if event.text:
            self._paste(event.text)

    # -- measuring only what changed ----------------------------------------------------------

    def replace(self, text: str, start: int, end: int) -> None:
        before = self.value
        start, end = sorted((max(0, start), min(len(before), end)))
        self._edit = (before, start, end, len(text))
        try:
            super().replace(text, start, end)
        finally:
            self._edit = None

    def _runs(self) -> CellRuns:
        value, runs = self.value, self.cells
        if runs.text is not value:
            edit = self._edit
            if edit is not None and edit[0] is runs.text:
                before, start, end, inserted = edit
                if len(value) == len(before) - (end - start) + inserted:
                    runs.edit(start, end, inserted, value)
                    return runs
            runs.rebuild(value)
        return runs

    def _position_to_cell(self, position: int) -> int:
        return self._runs().cell_of(position)

    def _cell_offset_to_index(self, offset: int) -> int:
        index, _ = self._runs().index_at(offset + int(self.scroll_offset.x))
        return index

    @property
    def content_width(self) -> int:
        if not self.value:
            return super().content_width
        return self._runs().total + 1  # and a cell for the cursor at the end

    def render_line(self, y: int) -> Strip:
        if y != 0 or not self.value or self.password or self.highlighter or self._suggestion:
            return super().render_line(y)
        width = self.scrollable_content_region.width + 1  # as Input draws it
        runs = self._runs()
        text = runs.text
        scroll_x = int(self.scroll_offset.x)
        index, start = runs.index_at(scroll_x)
        focused = self.has_focus
        low, high = sorted(self.selection) if focused else (0, 0)
        cursor = self.cursor_position if focused and self._cursor_visible else -1
        selected = self.get_component_rich_style("input--selection")
        cursor_style = self.get_component_rich_style("input--cursor")
        plain = Style()
        parts: list[tuple[str, Style]] = []
        cells = marks = 0
        if start < scroll_x:  # a wide character cut by the left edge: its visible half
            cells = start + shown(text[index])[1] - scroll_x
            parts.append((" " * cells, selected if low <= index < high else plain))
            index, marks = index + 1, MAX_MARKS_PER_BASE
        stop = min(len(text), index + width * _DRAW_LIMIT)
        self.drawn += stop - index
        while cells < width and index < stop:
            glyph, glyph_width = shown(text[index])
            if glyph_width == 0:
                marks += 1
                if marks > MAX_MARKS_PER_BASE:
                    index += 1
                    continue
            else:
                marks = 0
                if cells + glyph_width > width:  # a wide character cut by the right edge
                    glyph = " " * (width - cells)
                    glyph_width = width - cells
            style = selected if low <= index < high else plain
            if index == cursor:
                style = style + cursor_style
            parts.append((glyph, style))
            cells += glyph_width
            index += 1
        if cursor == len(text) and cells < width:
            parts.append((" ", cursor_style))
            cells += 1
        segments = _merged(parts)
        strip = Strip(segments, cells).extend_cell_length(width)
        return strip.apply_style(self.rich_style)


def _merged(parts: list[tuple[str, Style]]) -> list[Segment]:
    """One segment per run of equally styled glyphs."""
    segments: list[Segment] = []
    run: list[str] = []
    style: Style | None = None
    for glyph, glyph_style in parts:
        if glyph_style is not style and run:
            segments.append(Segment("".join(run), style))
            run = []
        style = glyph_style
        run.append(glyph)
    if run:
        segments.append(Segment("".join(run), style))
    return segments
