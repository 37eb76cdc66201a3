"""The live screen's keys: one list, which the footer, the help, the palette and the composer's
target line all read, so a key changed here is changed everywhere it is named."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from workbench.ui.screens.help import key_label

BINDINGS: list[BindingType] = [
    Binding("f1", "help", "Help"),
    Binding("f2", "cycle_mode", "Mode"),
    Binding("f3", "cycle_line_ending", "Line end"),
    Binding("f4", "target_all_peers", "All peers on/off"),
    Binding("f5", "toggle_listen", "Listen/Stop"),
    Binding("f6", "new_client", "New tab"),
    Binding("f7", "close_client", "Close tab"),
    Binding("f8", "toggle_connect", "Connect"),
    Binding("f9", "half_close", "Half-close"),
    Binding("f10", "reset_client", "Reset"),
    Binding("ctrl+r", "toggle_recording", "Record"),
    Binding("ctrl+o", "open_recording", "Watch recording"),
    Binding("ctrl+t", "replay_recording", "Replay to server"),
    Binding("ctrl+s", "saved_messages", "Saved messages"),
    Binding("ctrl+f", "send_file", "Send file"),
    Binding("ctrl+g", "stop_file", "Stop file send", show=False),
    Binding("ctrl+n", "focus_peers", "Pick a peer"),
    Binding("ctrl+y", "focus_tabs", "Pick a tab"),
    Binding("ctrl+l", "focus_log", "Event log", show=False),
    Binding("escape", "focus_composer", "Composer", show=False),
]

LIVE_ACTIONS = frozenset(b.action for b in BINDINGS if isinstance(b, Binding))
"""Actions on the live screen: inert while a dialog or a watched recording covers it."""


def key_for(action: str) -> str:
    """The key bound to ``action`` as the help names it ('Ctrl+N')."""
    for binding in BINDINGS:
        if isinstance(binding, Binding) and binding.action == action:
            return key_label(binding.key)
    raise KeyError(action)
