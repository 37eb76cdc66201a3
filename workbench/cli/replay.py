"""``workbench replay``: re-send a recording's client side to a live server and diff the answers."""

from __future__ import annotations

import argparse
import re
import sys
from functools import partial

from workbench.cli.arguments import (
    OneLineParser,
    byte_pattern,
    connect_endpoint,
    connect_timeout_seconds,
    positive_seconds,
    replay_speed,
)
from workbench.cli.common import (
    EXIT_DIFFERS,
    EXIT_ERROR,
    EXIT_INCOMPLETE,
    EXIT_OK,
    Interrupted,
    error,
    explained,
    parse_and_load,
    print_lines,
    run_interruptibly,
)
from workbench.describe import clean
from workbench.recording.replay import (
    DEFAULT_IDLE,
    DEFAULT_TIMEOUT,
    ReplayReport,
    Verdict,
    replay,
)
from workbench.recording.report import report_lines
from workbench.recording.scripts import Script, client_scripts, unplayable

DEFAULT_CONNECT_TIMEOUT = 10.0


REPLAY_DESCRIPTION = """\
Re-send the client side of a recording to a live server and compare what comes back with what
was recorded, one verdict per recorded conversation: match, differs, incomplete or error."""

REPLAY_EPILOG = """\
time:
  --timeout S is the budget for the whole replay: recorded pauses (scaled by --speed),
  connecting, sending and waiting all count. A conversation it cuts short is "incomplete",
  never a match ("differs" if a difference was already seen). --idle S is how long a
  conversation waits for bytes still missing from an answer while nothing moves (nothing
  received, nothing of ours taken): a server that holds back the end of an answer is
  reported (as differing) after --idle, not after --timeout.

memory:
  answers are compared as they arrive; once one is more than 64 KiB longer than recorded,
  reading stops ("the server sent more than recorded"), and a diff shows only a window of a
  few KiB around the first difference, whose byte offset it states.

exit status (when several apply, the first of 2, 3, 1):
  0  every conversation matched
  1  some conversation differs
  2  error: a bad file or option, a refused or failed connection
  3  some conversation is incomplete: --timeout ran out before it could be judged, or the
     server stopped taking our bytes for --idle seconds
  130 interrupted (Ctrl-C); 143 and 129 stopped by SIGTERM and SIGHUP
"""


def main(argv: list[str]) -> int:
    parser = OneLineParser(
        prog="workbench replay",
        description=REPLAY_DESCRIPTION,
        epilog=REPLAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.wbrec, or .jsonl)")
    parser.add_argument("--target", metavar="HOST:PORT", required=True, type=connect_endpoint)
    parser.add_argument(
        "--speed",
        metavar="X",
        type=replay_speed,
        default=1.0,
        help="scale the recorded pauses: 0.25–100, or max for no pauses (default 1)",
    )
    parser.add_argument(
        "--ignore",
        metavar="REGEX",
        type=byte_pattern,
        action="append",
        default=[],
        help="mask what matches on both sides before comparing, e.g. 'Date: [^\\r\\n]*' "
        "(repeatable)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds for the whole replay, pauses included (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--connect-timeout",
        metavar="S",
        type=connect_timeout_seconds,
        default=DEFAULT_CONNECT_TIMEOUT,
        help="seconds each connection may take to be accepted, within --timeout "
        f"(default {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--idle",
        metavar="S",
        type=positive_seconds,
        default=DEFAULT_IDLE,
        help="seconds to wait for the rest of an answer while nothing moves "
        f"(default {DEFAULT_IDLE:g})",
    )
    loaded = parse_and_load(parser, argv)
    if isinstance(loaded, int):
        return loaded
    args, recording = loaded
    try:
        ignore = _combined(args.ignore)
    except re.error as exc:
        return error(parser.prog, f"the --ignore expressions do not combine ({exc})")
    scripts = client_scripts(recording.events, merge=False)
    if not scripts:
        why = unplayable(recording.events)
        if why:
            return error(parser.prog, f"{args.file}: nothing to replay: {'; '.join(why)}")
        return error(parser.prog, f"{args.file}: the recording holds no conversation to replay")
    speed = "max" if args.speed is None else f"{args.speed:g}x"
    print(f"replaying {args.file} against {args.target} (speed {speed})", flush=True)
    _warn_if_too_long(scripts, args.speed, args.timeout)
    run = partial(
        replay,
        recording,
        args.target,
        speed=args.speed,
        ignore=ignore,
        budget=args.timeout,
        idle=args.idle,
        connect_timeout=min(args.timeout, args.connect_timeout),
    )
    report = run_interruptibly(run)
    return report.status if isinstance(report, Interrupted) else _print_report(report)


def _warn_if_too_long(scripts: list[Script], speed: float | None, budget: float) -> None:
    """Say up front when the recorded pauses alone outlast --timeout."""
    if speed is None:
        return
    span = max(script.duration for script in scripts) / speed
    if span > budget:
        print(
            f"  note: the recorded pauses take {span:.3g} s at this speed, more than --timeout "
            f"{budget:g} s: what runs past it will be incomplete (raise --timeout or --speed)",
            flush=True,
        )


def _print_report(report: ReplayReport) -> int:
    print_lines(report_lines(report))
    errors = {explained(r.message, r.hint) for r in report.results if r.verdict is Verdict.ERROR}
    for message in sorted(errors):
        print(f"workbench replay: {clean(message)}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if report.count(Verdict.INCOMPLETE):
        return EXIT_INCOMPLETE
    return EXIT_DIFFERS if report.count(Verdict.DIFFERS) else EXIT_OK


def _combined(patterns: list[re.Pattern[bytes]]) -> re.Pattern[bytes] | None:
    """One pattern masking what any of them matches (inline flags must be scoped: ``(?i:…)``)."""
    if len(patterns) < 2:
        return patterns[0] if patterns else None
    return re.compile(b"|".join(b"(?:" + pattern.pattern + b")" for pattern in patterns))
