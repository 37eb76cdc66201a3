"""Keys, and a short primer on what the events mean.

The key table is built from the bindings themselves (the app's and its widgets'), so a key
added to a ``BINDINGS`` list shows up here without anyone remembering to; ``EXPLAIN`` only
adds a longer explanation than the footer's few words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from workbench.describe import (
    CONNECTING,
    FAILED,
    FIN_BY_PEER,
    FIN_BY_US,
    HALF_CLOSED_BY_PEER,
    HALF_CLOSED_BY_US,
    KIND_MEANINGS,
    OPEN,
    RST_BY_PEER,
    RST_BY_US,
    closed_state,
)
from workbench.events import Closer
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.widgets.composer import Composer
from workbench.ui.widgets.event_log import EventLog
from workbench.ui.widgets.server_pane import ServerPane

EXPLAIN = {
    "help": "this help (Escape, q or F1 closes it)",
    "cycle_mode": (
        "composer mode: text · escapes (`\\r \\n \\t \\0 \\xNN \\\\`) · hex (`de ad be ef`)"
    ),
    "cycle_line_ending": "line ending added in text modes: none · LF · CRLF",
    "target_all_peers": "send to every peer of the server; again: back to the tab or peer before",
    "focus_peers": "to the peers table: ↑/↓ choose a peer, Enter sends to it from the composer",
    "focus_tabs": "to the client tabs: ←/→ choose a tab, Enter sends to it from the composer",
    "toggle_echo": "echo on/off: send back to each peer what it sends",
    "toggle_listen": "listen / stop listening (peers stay until closed)",
    "new_client": "new client tab: type host and port, then connect",
    "close_client": "close the current tab",
    "toggle_connect": "connect / disconnect the current tab",
    "half_close": f"half-close: send FIN, keep reading ({HALF_CLOSED_BY_US})",
    "reset_client": f"reset: abort the connection with RST ({RST_BY_US})",
    "toggle_recording": "start / stop recording every event to a file in the recordings folder",
    "open_recording": "watch a recording with its original timing, on a screen of its own",
    "replay_recording": "re-send a recording to a live server and compare the answers",
    "saved_messages": "saved messages: send one again, edit it, or save the composer's text",
    "send_file": "send a file to the composer's target (a tab, a peer, or every peer)",
    "stop_file": "stop the file being sent there",
    "focus_log": "move to the event log",
    "focus_composer": "back to the composer",
    "quit": "quit, closing every socket",
    "command_palette": "every action by name",
    "history(-1)": "the previous message sent (history)",
    "history(1)": "the next message sent, then back to the draft",
    "close_peer": "close the selected peer",
    "reset_peer": f"reset the selected peer ({RST_BY_US})",
    "all_peers": "target every peer",
    "toggle_hex": "hex / text previews",
    "request_filter": "filter by connection, kind and text",
    "follow": "follow the newest events",
    "select": "the full payload of the row, text and hex side by side",
}

KEY_NAMES = {"pageup": "PgUp", "pagedown": "PgDn", "equals_sign": "=", "minus": "-"}

INTRO = """\
# workbench

**Enter** in the composer sends its message to its target (named on the line above the input);
**Tab** moves focus. The keys below work on the live screen; dialogs and the watch screen
list their own keys at the bottom.
"""


def key_label(key: str) -> str:
    """'ctrl+r' -> 'Ctrl+R', 'f1' -> 'F1', 'end,G' -> 'End / G'."""
    labels = []
    for one in key.split(","):
        *modifiers, name = one.strip().split("+")
        if name in KEY_NAMES:
            shown = KEY_NAMES[name]
        elif len(name) == 1:
            shown = name.upper() if modifiers else name  # "G" is already shift+g
        else:
            shown = name.capitalize()  # f1 -> F1, escape -> Escape
        labels.append("+".join([*(m.capitalize() for m in modifiers), shown]))
    return " / ".join(labels)


def key_table(title: str, bindings: Iterable[BindingType]) -> str:
    """A markdown table: one row per binding, with its explanation or its own description."""
    rows = [f"## {title}", "", "| key | does |", "|---|---|"]
    for binding in bindings:
        if not isinstance(binding, Binding) or binding.system:
            continue
        what = EXPLAIN.get(binding.action) or binding.description or binding.action
        rows.append(f"| **{key_label(binding.key)}** | {what} |")
    return "\n".join(rows) + "\n"


def app_bindings(app: App[object]) -> list[BindingType]:
    """The app's bindings, its own first, then those it inherits (quit), then the palette."""
    found: list[BindingType] = []
    for cls in type(app).__mro__:
        found.extend(cls.__dict__.get("BINDINGS", []))
    if app.ENABLE_COMMAND_PALETTE:
        found.append(Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Commands"))
    return found


def help_markdown(sections: Sequence[tuple[str, Iterable[BindingType]]]) -> str:
    tables = "\n".join(key_table(title, bindings) for title, bindings in sections)
    return f"{INTRO}\n{tables}\n{PRIMER}"


PRIMER = f"""\
## Reading the log
Each row names its event by the kind recordings store too (the filter, **f**, takes the same
names):

{chr(10).join(f"- **{kind}**: {meaning}" for kind, meaning in KIND_MEANINGS.items())}

- **Who closed, and how.** A FIN is an orderly end of one direction, an RST an abortive end
  of both: *{FIN_BY_US}*, *{FIN_BY_PEER}*, *{RST_BY_US}*, *{RST_BY_PEER}*. After **eof** a
  peer stays *{HALF_CLOSED_BY_PEER}* until we close it: answer it from the composer, then
  close (**c**). With **Echo** on, we echo what it sent, then finish too (FIN back, then
  close). Closing while bytes we never read wait in the kernel makes it a reset: the kernel
  sends RST, and the **close** row says so.
- **States** in the peers table and the client tabs: *{CONNECTING}*, *{OPEN}*, *{FAILED}*,
  *{HALF_CLOSED_BY_PEER}*, *{HALF_CLOSED_BY_US}*, then *closed* with its closer, such as
  *{closed_state(Closer.PEER_RESET)}*.
- **send** and **recv**: TCP is a byte stream, so one message may arrive in several
  pieces, or several messages in one.
- **Sending a file** streams it from disk, 1 MiB at a time, only as fast as the peer takes
  it, so any size fits in memory. Its bytes are ordinary **send** rows; progress (sent of
  total, rate, pending) shows below the composer and in the client tab. With every peer as
  target, the slowest peer sets the pace. **Ctrl+G** stops reading the file: what is already
  queued (under 1 MiB) still goes out and the connection stays open. Closing the connection
  stops the send too. Only regular files are sent (not FIFOs or devices); a file that shrinks
  while it is sent ends with an error row saying how many bytes went out.
- **Common errors**: *Connection refused* means nothing is listening on that port; *address in use*
  means another socket already has it.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: round $accent; background: $panel;
    }
    """
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]
    AUTO_FOCUS = "VerticalScroll"  # so the arrows and Page Down scroll at once

    def compose(self) -> ComposeResult:
        sections = [
            ("On the live screen", app_bindings(self.app)),
            ("In the composer", Composer.BINDINGS),
            ("In the peers table", ServerPane.BINDINGS),
            ("In the event log", EventLog.BINDINGS),
            ("In a payload (Enter on a log row)", PayloadScreen.BINDINGS),
        ]
        self.text = help_markdown(sections)
        with VerticalScroll():
            yield Markdown(self.text)
