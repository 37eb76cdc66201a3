"""What every subcommand shares: exit statuses, one-line errors, argv parsing and interruption.

Subcommands run in scripts and CI jobs, where the exit status and one readable sentence are all
anyone sees: 0 when all is well, 1 when a replay found differences (3 when one was cut short),
2 for anything the user has to fix (a bad file or option, a refused target), 128 + the signal's
number when stopped by one (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP; mock's normal stop is Ctrl-C,
with 0), and every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import trio

from workbench.recording.format import RecordingError
from workbench.recording.reader import Recording, read_recording

EXIT_OK, EXIT_DIFFERS, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Besides Ctrl-C: each stops a subcommand cleanly, with exit status 128 + its number."""

T = TypeVar("T")


def parse_and_load(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[argparse.Namespace, Recording] | int:
    """Arguments and the recording they name, or the exit status to stop with.

    Every subcommand can be called as a function, and an unreadable recording is one line,
    exit 2.
    """
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    try:
        recording = read_recording(args.file)
    except RecordingError as exc:
        return error(parser.prog, str(exc))
    warn_if_cut_short(parser.prog, args.file, recording.warning)
    return args, recording


def parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """argparse's own exits (``--help``, a usage error) become return values."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR


def error(prog: str, message: str) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return EXIT_ERROR


def explained(message: str, hint: str) -> str:
    return f"{message}; hint: {hint}" if hint else message


@dataclass(frozen=True, slots=True)
class Interrupted:
    """Ctrl-C or a stop signal ended the run, every socket closed; ``status`` is 128 + signal."""

    status: int


def run_interruptibly(run: Callable[[], Awaitable[T]]) -> T | Interrupted:
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


def warn_if_cut_short(prog: str, path: str, warning: str | None) -> None:
    if warning:
        print(f"{prog}: warning: {path}: {warning}", file=sys.stderr)


def print_lines(lines: Iterable[str]) -> None:
    """Print until done or until the reader (``| head``) goes away, which is not an error."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
