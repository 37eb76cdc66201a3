"""``workbench mock``: serve a recording's server side to any number of real clients."""

from __future__ import annotations

from functools import partial

import trio

from workbench.cli.arguments import OneLineParser, listen_endpoint
from workbench.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    Interrupted,
    error,
    explained,
    parse_and_load,
    run_interruptibly,
)
from workbench.core import NetworkError
from workbench.events import Address
from workbench.recording.mock import MockSummary, ServedClient, serve_mock
from workbench.recording.reader import Recording
from workbench.recording.scripts import server_scripts
from workbench.wording import counted


def main(argv: list[str]) -> int:
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
    loaded = parse_and_load(parser, argv)
    if isinstance(loaded, int):
        return loaded
    args, recording = loaded
    if not server_scripts(recording.events):
        return error(parser.prog, f"{args.file}: the recording holds no conversation to serve")
    summary = MockSummary()
    failure = run_interruptibly(partial(_mock, recording, args.file, args.listen, summary))
    if isinstance(failure, NetworkError):
        why = failure.explanation
        return error(parser.prog, explained(why.message, why.hint))
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
