"""Small wording helpers shared by the UI and the subcommands (stdlib only)."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """``number`` with ``noun`` agreeing: "1 connection", "0 connections", "2 matches"."""
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def quoted(text: str) -> str:
    """``text`` in quotes as the user typed it: ``repr`` would double every backslash, so
    ``Name for 'hello\\n'`` would read as two backslashes the message does not hold."""
    return f"'{text}'"
