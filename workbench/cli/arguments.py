"""argparse pieces shared by every command: a parser that errs in one line, and value types.

Each type turns a bad value into one sentence naming what is wrong (argparse prints it with the
program's name, exit status 2); the checks themselves live with the values they check.
"""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

from workbench.endpoints import (
    CONNECT_TIMEOUT_MAX,
    BadArgument,
    parse_endpoint,
    valid_connect_timeout,
)
from workbench.events import Address

SPEED_RANGE = (0.25, 100.0)
"""Replay speeds a person may ask for; ``max`` means no pauses at all."""


class OneLineParser(argparse.ArgumentParser):
    """Bad values get one line on stderr and exit status 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def listen_endpoint(text: str) -> Address:
    """argparse type for where to listen: port 0 allowed."""
    try:
        return parse_endpoint(text, allow_zero=True)
    except BadArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def connect_endpoint(text: str) -> Address:
    """argparse type for where to connect: a real port."""
    try:
        return parse_endpoint(text, allow_zero=False)
    except BadArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def connect_timeout_seconds(text: str) -> float:
    """argparse type for ``--connect-timeout``: seconds, more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    seconds = valid_connect_timeout(value)
    if seconds is None:
        raise argparse.ArgumentTypeError(
            f"{text} is not a usable connect timeout (seconds: more than 0, at most "
            f"{CONNECT_TIMEOUT_MAX:g})"
        )
    return seconds


def replay_speed(text: str) -> float | None:
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


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} seconds is not a usable timeout")
    return value


def byte_pattern(text: str) -> re.Pattern[bytes]:
    try:
        return re.compile(text.encode("utf-8", "surrogateescape"))
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression ({exc})") from None
