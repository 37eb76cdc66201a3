"""The ``workbench`` command itself: launches the UI, or hands over to a subcommand.

Textual is imported only when the UI starts, so ``--version``, ``--help`` and the
subcommands answer at once and work where no terminal is attached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import termios
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import __version__
from workbench.cli.arguments import (
    OneLineParser,
    connect_endpoint,
    connect_timeout_seconds,
    listen_endpoint,
)
from workbench.crash import EXIT_CRASH, report_crash
from workbench.recording.format import RecordingError
from workbench.recording.reader import RecordingReader
from workbench.saved_messages import MessagesFileError, read_messages_file
from workbench.settings import config_dir, user_themes_dir

if TYPE_CHECKING:
    from workbench.ui.app import WorkbenchApp

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""Each ends the app the way Ctrl+Q does, with exit status 128 + its number."""

SHUTDOWN_GRACE = 5.0
"""Seconds a stop signal gives the clean shutdown before the process ends regardless."""

RESTORE_TERMINAL = (
    b"\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"
    b"\x1b[?2004l\x1b[?7h"
)
"""What Textual writes when it leaves: main screen, cursor, no mouse or focus reports."""

SUBCOMMAND_NAMES = ("replay", "mock", "show")
"""Each is the module ``workbench.cli.NAME``, imported only when used: they need trio,
``--version`` does not."""

DESCRIPTION = """\
A terminal socket workbench for building, debugging and teaching TCP: a listening server
pane, client session tabs, a message composer and a live event log of every connect, accept,
send, recv and close."""

EXAMPLES = """\
subcommands (no UI; `workbench NAME --help` for details):
  replay FILE --target HOST:PORT            re-send a recording to a live server, diff the answers
  mock FILE --listen HOST:PORT              serve a recording's server side to any client
  show FILE [--hex | --jsonl]               print a recording as a transcript, or as JSON Lines

examples:
  workbench                                 open the workbench
  workbench --listen 127.0.0.1:5000         start with a server listening on port 5000
  workbench --listen 0 --connect 127.0.0.1:8080
                                            listen on any free port and open a client tab

exit status: 0 after quitting; 128+N when stopped by signal N (SIGTERM 143, SIGHUP 129), after
closing every socket and finishing the recording; 70 after a crash, with one line on stderr
naming the file that holds the traceback.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="workbench",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=listen_endpoint,
        help="start the server pane listening (PORT alone means 127.0.0.1; 0 = any free port)",
    )
    parser.add_argument(
        "--connect",
        metavar="HOST:PORT",
        type=connect_endpoint,
        action="append",
        default=[],
        help="open a client tab connected to HOST:PORT (repeatable)",
    )
    parser.add_argument(
        "--connect-timeout",
        metavar="SECONDS",
        type=connect_timeout_seconds,
        help="how long a client tab waits for the server to accept "
        "(default: the connect_timeout setting, 10)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        nargs="?",
        const=True,
        default=False,
        type=Path,
        help="record everything from launch (to FILE, or a new dated file in --recordings-dir)",
    )
    parser.add_argument(
        "--open", metavar="FILE", type=Path, help="watch a recording in the event log"
    )
    parser.add_argument(
        "--recordings-dir",
        metavar="DIR",
        type=Path,
        help="where new recordings go (default: the saved setting, ./recordings)",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme for this run (default: the last one picked in the palette); "
        f"your own themes: *.toml files in {_escaped(user_themes_dir(config_dir()))}",
    )
    parser.add_argument(
        "--messages",
        metavar="FILE",
        type=Path,
        help='keep saved messages in FILE (JSON: {"messages": [...]}) instead of the config folder',
    )
    return parser


def _escaped(path: Path) -> str:
    """A path for argparse help text, which treats % as a format character."""
    return str(path).replace("%", "%%")


def check_theme(parser: argparse.ArgumentParser, name: str) -> None:
    """Fail before the UI starts, naming the themes that exist (reads theme files only)."""
    from workbench.themes import theme_names

    names = theme_names(user_themes_dir(config_dir()))
    if name not in names:
        parser.error(f"unknown theme {name!r} (available: {', '.join(names)})")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in SUBCOMMAND_NAMES:
        return run_subcommand(arguments[0], arguments[1:])
    parser = build_parser()
    if arguments and not arguments[0].startswith("-"):
        parser.error(f"unknown command {arguments[0]!r} (commands: {', '.join(SUBCOMMAND_NAMES)})")
    args = parser.parse_args(arguments)
    if args.theme is not None:
        check_theme(parser, args.theme)
    if args.messages is not None:
        try:  # a bad entry is kept and reported in the app; only an unusable file stops here
            read_messages_file(args.messages)
        except MessagesFileError as exc:
            parser.error(str(exc))
    if args.open is not None:
        try:  # what is not a recording at all is refused here; the UI indexes the rest
            RecordingReader(args.open).close()
        except RecordingError as exc:
            parser.error(str(exc))
    try:
        from workbench.ui.app import WorkbenchApp

        app = WorkbenchApp(
            listen=args.listen,
            connect=list(args.connect),
            connect_timeout=args.connect_timeout,
            record=args.record,
            watch=args.open,
            recordings_dir=args.recordings_dir,
            theme_name=args.theme,
            messages_file=args.messages,
            freeze_startup_objects=True,
        )
        return run_app(app)
    except Exception as exc:  # what the app did not handle itself, e.g. while starting
        print(report_crash("workbench crashed", exc), file=sys.stderr)
        return EXIT_CRASH


def run_app(app: WorkbenchApp) -> int:
    """Run the UI with the stop signals handled; the exit status says how it ended.

    The handlers are installed before Textual touches the terminal and kept until the loop
    has closed, after Textual restored the terminal, so no signal can kill the process while
    the screen is in application mode; after a stop signal later ones stay ignored until the
    process has ended (a closing terminal sends several, and the first decides the status),
    otherwise the handlers found are restored. The first stop signal
    also arms a watchdog: should the clean shutdown hang, the process still ends, terminal
    restored, SHUTDOWN_GRACE later.
    """
    modes = _terminal_modes()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    watchdog: list[threading.Timer] = []

    def stop(signum: int) -> None:
        app.stop_on_signal(signum)
        if not watchdog:
            timer = threading.Timer(SHUTDOWN_GRACE, _force_exit, (128 + signum, modes))
            timer.daemon = True
            timer.start()
            watchdog.append(timer)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop, signum)
        try:
            await app.run_async()
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)
                signal.signal(signum, signal.SIG_IGN)

    try:
        asyncio.run(run())
        if app.crash_line:
            print(app.crash_line, file=sys.stderr)
        return app.return_code or 0
    finally:
        for timer in watchdog:
            timer.cancel()
        if not watchdog:  # stopped by a signal: the process ends with its status, and a
            _restore(previous)  # later one (a closing terminal sends several) must not kill it


def _restore(handlers: Mapping[signal.Signals, Any]) -> None:
    for signum, handler in handlers.items():
        if handler is not None:  # None: installed from C, not ours to restore
            signal.signal(signum, handler)


def _terminal_modes() -> list[Any] | None:
    with suppress(termios.error, OSError, ValueError, AttributeError):
        return termios.tcgetattr(sys.__stdin__.fileno()) if sys.__stdin__ else None
    return None


def _force_exit(status: int, modes: list[Any] | None) -> None:
    """The last resort: undo what Textual did to the terminal, as Textual would, and go."""
    stdin, stderr = sys.__stdin__, sys.__stderr__
    with suppress(OSError, ValueError, AttributeError):
        if stderr is not None:
            os.set_blocking(stderr.fileno(), False)  # a terminal that stopped reading must not
            os.write(stderr.fileno(), RESTORE_TERMINAL)  # hold us here
    with suppress(termios.error, OSError, ValueError, AttributeError):
        if stdin is not None and modes is not None:
            termios.tcsetattr(stdin.fileno(), termios.TCSANOW, modes)
    os._exit(status)


def run_subcommand(name: str, argv: list[str]) -> int:
    """A subcommand's own status, or EXIT_CRASH with one line naming the traceback's file."""
    try:
        command: Callable[[list[str]], int] = import_module(f"workbench.cli.{name}").main
        return command(argv)
    except Exception as exc:
        print(report_crash(f"{name} crashed", exc), file=sys.stderr)
        return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())
