"""What the composer has sent, walked with Up and Down like a shell's history. No Textual.

Up leaves the draft (what was being typed) and walks back through sent messages; Down walks
forward, and past the newest brings the draft back. Sending ends the walk.
"""

from __future__ import annotations

HISTORY_LIMIT = 500
"""Messages kept; the oldest go first."""


class SentHistory:
    """``messages`` oldest first, without consecutive repeats; ``step`` walks them."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.messages: list[str] = []
        self.limit = limit
        self._index: int | None = None  # into messages while walking; None: at the draft
        self._draft = ""  # what was typed before the walk began, restored past the newest

    def remember(self, text: str) -> None:
        """``text`` was sent: keep it (once, if sent twice in a row) and end the walk."""
        if text and (not self.messages or self.messages[-1] != text):
            self.messages.append(text)
            del self.messages[: -self.limit]
        self._index = None

    def step(self, step: int, typed: str) -> str | None:
        """The text to show after moving ``step`` (-1 back, 1 forward) from ``typed``;
        None when there is nowhere to go (Down at the draft, Up with nothing sent)."""
        if self._index is None:
            if step > 0 or not self.messages:
                return None
            self._draft = typed
            index = len(self.messages)
        else:
            index = self._index
        index = max(index + step, 0)
        if index >= len(self.messages):
            self._index = None
            return self._draft
        self._index = index
        return self.messages[index]
