"""Keys, and a short primer on what the events mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# workbench

| key | does |
|---|---|
| **Enter** | send the composer's message to its target (shown left of the input) |
| **Up / Down** | walk the history of sent messages |
| **F2** | composer mode: text · escapes (`\\r \\n \\t \\0 \\xNN \\\\`) · hex (`de ad be ef`) |
| **F3** | line ending added in text modes: none · LF · CRLF |
| **F4** | send to every peer of the server |
| **F5** | listen / stop listening (peers stay until closed) |
| **F6 / F7** | new client tab / close the current tab |
| **F8** | connect / disconnect the current tab |
| **F9** | half-close: send FIN, keep reading |
| **F10** | reset: abort the connection with RST |
| **c / r / a** | in the peers table: close, reset, or target all peers |
| **x / f / End** | in the event log: hex view, filter, follow the newest |
| **Enter** on a log row | the full payload, text and hex side by side |
| **Tab / Escape** | move focus / back to the composer |
| **Ctrl+F** | send a file to the composer's target (a tab, a peer, or every peer) |
| **Ctrl+G** | stop the file being sent there |
| **Ctrl+P** | every action by name |
| **Ctrl+Q** | quit, closing every socket |

## Reading the log
- **accept / connect**: a TCP handshake finished. **send** is what the kernel took from us,
  **recv** what arrived: TCP is a byte stream, so one message may arrive in several
  pieces, or several messages in one.
- **eof**: the peer sent FIN (it is done sending). It stays open as *peer done sending*
  until we close it: answer it from the composer, then close (**c**). With **Echo** on,
  we echo what it sent, then finish too (FIN back, then close).
- **shutdown**: we sent FIN (half-close). **close** says who closed, and whether it
  was an orderly FIN or an abortive RST (reset). Closing while bytes we never read wait in
  the kernel makes it a reset: the kernel sends RST, and the log says so.
- **Sending a file** streams it from disk, 1 MiB at a time, only as fast as the peer takes
  it, so any size fits in memory. Its bytes are ordinary **send** rows; progress (sent of
  total, rate, pending) shows below the composer and in the client tab. With every peer as
  target, the slowest peer sets the pace. **Ctrl+G** stops reading the file: what is already
  queued (under 1 MiB) still goes out and the connection stays open. Closing the connection
  stops the send too. Only regular files are sent (not FIFOs or devices); a file that shrinks
  while it is sent ends with an error row saying how many bytes went out.
- **error**: what went wrong, and what to check. *Connection refused* means nothing is
  listening on that port; *address in use* means another socket already has it.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: round $accent; background: $panel;
    }
    """
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
