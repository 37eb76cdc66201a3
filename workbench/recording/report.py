"""A replay's report in words: what ``workbench replay`` prints and the replay dialog shows.

One wording for both, with ``workbench.describe``'s escaping: a recording's addresses and the
engine's messages may hold anything a crafted file or a peer put there.
"""

from __future__ import annotations

from workbench.describe import clean, with_hint
from workbench.recording.replay import ConnectionResult, ReplayReport, Verdict
from workbench.wording import counted

NOTHING_TO_REPLAY = "the recording holds no conversation to replay"


def verdict_line(result: ConnectionResult) -> str:
    """``#2 (a → b): differs (sent 25 B, expected 40 B, received 31 B)``; an error says no more
    than that (its message follows on a line of its own)."""
    script = result.script
    if result.verdict is Verdict.ERROR:
        return f"{script}: {result.verdict.value}"
    sent = (
        f"{result.sent}"
        if result.sent == script.sent_size
        else f"{result.sent} of {script.sent_size}"
    )
    sizes = f"sent {sent} B, expected {script.expected_size} B"
    return f"{script}: {result.verdict.value} ({sizes}, received {result.received} B)"


def report_lines(report: ReplayReport) -> list[str]:
    """What was skipped, then each conversation's verdict with why and its diff, then counts."""
    lines = [f"skipped: {clean(why)}" for why in report.skipped]
    for result in report.results:
        lines.append(verdict_line(result))
        if result.message:
            lines.append("  " + with_hint(result.message, result.hint))
        if result.diff:  # escaped already, line by line (compare.py); as is, to copy out
            lines.extend(result.diff.splitlines())
    if not report.results and not report.skipped:
        lines.append(NOTHING_TO_REPLAY)
    counts = ", ".join(f"{report.count(verdict)} {verdict.value}" for verdict in Verdict)
    lines.append(f"{counted(len(report.results), 'connection')}: {counts}")
    return lines
