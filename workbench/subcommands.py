"""The subcommands that work with recordings, without the UI: ``replay``, ``mock`` and ``show``.

Each is ``main_X(argv) -> exit status``. They run in scripts and CI jobs, where the exit status
and one readable sentence are all anyone sees: 0 when all is well, 1 when a replay found
differences (3 when one was cut short), 2 for anything the user has to fix (a bad file or
option, a refused target), 128 + the signal's number when stopped by one (130 Ctrl-C, 143
SIGTERM, 129 SIGHUP; mock's normal stop is Ctrl-C, with 0), and every error is one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain
from typing import TypeVar

import trio

from workbench.core import NetworkError
from workbench.endpoints import (
    OneLineParser,
    connect_endpoint,
    connect_timeout_seconds,
    listen_endpoint,
)
from workbench.events import Address
from workbench.recording.format import (
    FORMAT_VERSION,
    RecordingError,
    encode_event,
    encode_header,
)
from workbench.recording.mock import MockSummary, ServedClient, serve_mock
from workbench.recording.reader import Recording, RecordingReader, read_recording
from workbench.recording.replay import (
    DEFAULT_IDLE,
    DEFAULT_TIMEOUT,
    ConnectionResult,
    ReplayReport,
    Script,
    Verdict,
    client_scripts,
    replay,
    server_scripts,
    unplayable,
)
from workbench.recording.transcript import transcript_lines
from workbench.wording import counted

EXIT_OK, EXIT_DIFFERS, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_CONNECT_TIMEOUT = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Besides Ctrl-C: each stops a subcommand cleanly, with exit status 128 + its number."""
SPEED_RANGE = (0.25, 100.0)

T = TypeVar("T")


# -- replay ---------------------------------------------------------------------------------


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


def main_replay(argv: list[str]) -> int:
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
        type=_speed,
        default=1.0,
        help="scale the recorded pauses: 0.25–100, or max for no pauses (default 1)",
    )
    parser.add_argument(
        "--ignore",
        metavar="REGEX",
        type=_pattern,
        action="append",
        default=[],
        help="mask what matches on both sides before comparing, e.g. 'Date: [^\\r\\n]*' "
        "(repeatable)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_seconds,
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
        type=_seconds,
        default=DEFAULT_IDLE,
        help="seconds to wait for the rest of an answer while nothing moves "
        f"(default {DEFAULT_IDLE:g})",
    )
    loaded = _parse_and_load(parser, argv)
    if isinstance(loaded, int):
        return loaded
    args, recording = loaded
    try:
        ignore = _combined(args.ignore)
    except re.error as exc:
        return _error(parser.prog, f"the --ignore expressions do not combine ({exc})")
    scripts = client_scripts(recording.events, merge=False)
    if not scripts:
        why = unplayable(recording.events)
        if why:
            return _error(parser.prog, f"{args.file}: nothing to replay: {'; '.join(why)}")
        return _error(parser.prog, f"{args.file}: the recording holds no conversation to replay")
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
    report = _run_interruptibly(run)
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
    lines = [f"  skipped: {skipped}" for skipped in report.skipped]
    for result in report.results:
        lines.append(_verdict_line(result))
        if result.diff:
            lines.append(result.diff)
        if result.message and result.verdict is not Verdict.ERROR:
            lines.append(f"  note: {_explained(result.message, result.hint)}")
    counts = ", ".join(f"{report.count(verdict)} {verdict.value}" for verdict in Verdict)
    lines.append(f"{counted(len(report.results), 'connection')}: {counts}")
    _print_lines(lines)
    errors = {_explained(r.message, r.hint) for r in report.results if r.verdict is Verdict.ERROR}
    for error in sorted(errors):
        print(f"workbench replay: {error}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if report.count(Verdict.INCOMPLETE):
        return EXIT_INCOMPLETE
    return EXIT_DIFFERS if report.count(Verdict.DIFFERS) else EXIT_OK


def _verdict_line(result: ConnectionResult) -> str:
    script = result.script
    if result.verdict is Verdict.ERROR:
        return f"{script}: error: {result.message}"
    sent = (
        f"{result.sent}"
        if result.sent == script.sent_size
        else f"{result.sent} of {script.sent_size}"
    )
    sizes = f"sent {sent} B, expected {script.expected_size} B"
    return f"{script}: {result.verdict.value} ({sizes}, received {result.received} B)"


# -- mock -----------------------------------------------------------------------------------


def main_mock(argv: list[str]) -> int:
    parser = OneLineParser(
        prog="workbench mock",
        description="Serve the server side of a recording to any number of clients, answering "
        "each the way the recorded server did. Stop with Ctrl-C for a summary.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.wbrec, or .jsonl)")
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        required=True,
        type=listen_endpoint,
        help="where to listen (port 0 picks a free one)",
    )
    loaded = _parse_and_load(parser, argv)
    if isinstance(loaded, int):
        return loaded
    args, recording = loaded
    if not server_scripts(recording.events):
        return _error(parser.prog, f"{args.file}: the recording holds no conversation to serve")
    summary = MockSummary()
    failure = _run_interruptibly(partial(_mock, recording, args.file, args.listen, summary))
    if isinstance(failure, NetworkError):
        why = failure.explanation
        return _error(parser.prog, _explained(why.message, why.hint))
    print(
        f"mock server stopped: {counted(summary.clients, 'client')}, {summary.bytes_in} B in, "
        f"{summary.bytes_out} B out, {counted(len(summary.mismatches), 'mismatch')}"
    )
    for mismatch in summary.mismatches:
        print(f"  {mismatch}")
    if isinstance(failure, Interrupted) and failure.status != EXIT_INTERRUPTED:
        return failure.status  # SIGTERM, SIGHUP; Ctrl-C is how mock is meant to stop
    return EXIT_OK


async def _mock(
    recording: Recording, name: str, listen: Address, summary: MockSummary
) -> NetworkError | None:
    """Serve until interrupted; a failure to listen is returned, to be reported in one line."""
    serve = partial(serve_mock, recording, listen, summary=summary, on_event=_print_served)
    async with trio.open_nursery() as nursery:
        try:
            port = await nursery.start(serve)
        except NetworkError as exc:
            return exc
        print(f"mock server for {name} listening on {Address(listen.host, port)}", flush=True)
    return None


def _print_served(client: ServedClient) -> None:
    outcome = counted(len(client.mismatches), "mismatch") if client.mismatches else "as recorded"
    print(
        f"served {client.remote} with conversation #{client.script.conn}: "
        f"{client.bytes_in} B in, {client.bytes_out} B out, {outcome}",
        flush=True,
    )
    for mismatch in client.mismatches:
        print(f"  {mismatch}", flush=True)


# -- show -----------------------------------------------------------------------------------


def main_show(argv: list[str]) -> int:
    parser = OneLineParser(
        prog="workbench show",
        description="Print a recording as a log, one line per event, or as JSON Lines for jq.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.wbrec, or .jsonl)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--hex", action="store_true", help="show payloads as hex dumps")
    form.add_argument(
        "--jsonl",
        action="store_true",
        help="print the recording itself with every payload inline in base64: pure JSON Lines,"
        " which jq reads and workbench reads back",
    )
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    if args.jsonl:
        return _export_jsonl(parser.prog, args.file)
    return _show_transcript(parser.prog, args.file, hex=args.hex)


def _show_transcript(prog: str, path: str, *, hex: bool) -> int:
    """Streamed: each event is printed as it is read, so any size prints in constant memory.

    Damage found part way is reported after what was printed before it, and exits 2.
    """
    try:
        with RecordingReader(path) as reader:
            _print_lines(transcript_lines(reader.header, reader, hex=hex))
    except RecordingError as exc:
        return _error(prog, str(exc))
    _warn_if_cut_short(prog, path, reader.warning)
    return EXIT_OK


def _export_jsonl(prog: str, path: str) -> int:
    """Streamed, so exporting a recording bigger than memory works."""
    try:
        with RecordingReader(path) as reader:
            header = replace(reader.header, version=FORMAT_VERSION)
            lines = chain(
                [encode_header(header)],
                (encode_event(event, header.started_mono) for event in reader),
            )
            _print_lines(lines)
    except RecordingError as exc:
        return _error(prog, str(exc))
    _warn_if_cut_short(prog, path, reader.warning)
    return EXIT_OK


def _warn_if_cut_short(prog: str, path: str, warning: str | None) -> None:
    if warning:
        print(f"{prog}: warning: {path}: {warning}", file=sys.stderr)


def _print_lines(lines: Iterable[str]) -> None:
    """Print until done or until the reader (``| head``) goes away, which is not an error."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# -- shared ---------------------------------------------------------------------------------


def _parse_and_load(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[argparse.Namespace, Recording] | int:
    """Arguments and the recording they name, or the exit status to stop with.

    Every subcommand can be called as a function, and an unreadable recording is one line,
    exit 2.
    """
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    try:
        recording = read_recording(args.file)
    except RecordingError as exc:
        return _error(parser.prog, str(exc))
    _warn_if_cut_short(parser.prog, args.file, recording.warning)
    return args, recording


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """argparse's own exits (``--help``, a usage error) become return values."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR


def _error(prog: str, message: str) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return EXIT_ERROR


def _explained(message: str, hint: str) -> str:
    return f"{message}; hint: {hint}" if hint else message


@dataclass(frozen=True, slots=True)
class Interrupted:
    """Ctrl-C or a stop signal ended the run, every socket closed; ``status`` is 128 + signal."""

    status: int


def _run_interruptibly(run: Callable[[], Awaitable[T]]) -> T | Interrupted:
    """``trio.run``, ended quietly by Ctrl-C (trio may wrap the KeyboardInterrupt), SIGTERM or
    SIGHUP: the run is cancelled, which closes its sockets, and later signals are ignored until
    it has."""
    result: T | Interrupted = Interrupted(EXIT_INTERRUPTED)
    try:
        if threading.current_thread() is threading.main_thread():
            result = trio.run(_until_signalled, run)
        else:  # called as a function from another thread: signals go to the main thread
            result = trio.run(run)
    except* KeyboardInterrupt:
        pass
    return result


async def _until_signalled(run: Callable[[], Awaitable[T]]) -> T | Interrupted:
    outcome: list[T | Interrupted] = []
    with trio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async with trio.open_nursery() as nursery:

            async def main() -> None:
                outcome.append(await run())
                nursery.cancel_scope.cancel()

            nursery.start_soon(main)
            async for signum in signals:
                outcome.append(Interrupted(128 + signum))
                nursery.cancel_scope.cancel()
                break
    return outcome[0]


def _speed(text: str) -> float | None:
    if text.strip().lower() == "max":
        return None
    low, high = SPEED_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or max)") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"speed {text} is out of range ({low:g}–{high:g}, or max)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} seconds is not a usable timeout")
    return value


def _pattern(text: str) -> re.Pattern[bytes]:
    try:
        return re.compile(text.encode("utf-8", "surrogateescape"))
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression ({exc})") from None


def _combined(patterns: list[re.Pattern[bytes]]) -> re.Pattern[bytes] | None:
    """One pattern masking what any of them matches (inline flags must be scoped: ``(?i:…)``)."""
    if len(patterns) < 2:
        return patterns[0] if patterns else None
    return re.compile(b"|".join(b"(?:" + pattern.pattern + b")" for pattern in patterns))


SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "replay": main_replay,
    "mock": main_mock,
    "show": main_show,
}


def main(argv: list[str]) -> int:
    """``python -m workbench.subcommands NAME ...``, for running a subcommand on its own."""
    if not argv or argv[0] not in SUBCOMMANDS:
        names = "|".join(SUBCOMMANDS)
        return _error("workbench", f"usage: python -m workbench.subcommands {{{names}}} ...")
    return SUBCOMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
