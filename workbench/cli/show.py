"""``workbench show``: print a recording as a transcript, or as JSON Lines for jq (streamed)."""

from __future__ import annotations

from dataclasses import replace
from itertools import chain

from workbench.cli.arguments import OneLineParser
from workbench.cli.common import EXIT_OK, error, parse_args, print_lines, warn_if_cut_short
from workbench.recording.format import (
    FORMAT_VERSION,
    RecordingError,
    encode_event,
    encode_header,
)
from workbench.recording.reader import RecordingReader
from workbench.recording.transcript import transcript_lines


def main(argv: list[str]) -> int:
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
    args = parse_args(parser, argv)
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
            print_lines(transcript_lines(reader.header, reader, hex=hex))
    except RecordingError as exc:
        return error(prog, str(exc))
    warn_if_cut_short(prog, path, reader.warning)
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
            print_lines(lines)
    except RecordingError as exc:
        return error(prog, str(exc))
    warn_if_cut_short(prog, path, reader.warning)
    return EXIT_OK
