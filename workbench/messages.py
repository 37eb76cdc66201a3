"""Saved messages: named composer inputs to send again, like Packet Sender's stored packets.

A message keeps what the user typed plus how it was read (mode and line ending), not the
resulting bytes, so loading it back into the composer shows exactly what was saved and
editing it stays natural.

File format (``messages.json`` in the config folder, and what ``--messages FILE`` reads)::

    {
      "version": 1,
      "messages": [
        {"name": "hello", "text": "hello", "mode": "text", "line_ending": "crlf"},
        {"name": "ping", "text": "de ad be ef", "mode": "hex"}
      ]
    }

``mode`` is text, escapes or hex (default text); ``line_ending`` is none, lf or crlf (default
lf, ignored in hex mode). Names are unique. ``version`` may be left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from workbench.codec import EncodeError, LineEnding, Mode, encode
from workbench.settings import write_json_atomic

MESSAGES_FILE = "messages.json"
FORMAT_VERSION = 1
MESSAGE_KEYS = {"name", "text", "mode", "line_ending"}

_Choice = TypeVar("_Choice", Mode, LineEnding)


@dataclass(frozen=True)
class SavedMessage:
    """What the composer held when it was saved."""

    name: str
    text: str
    mode: Mode = Mode.TEXT
    line_ending: LineEnding = LineEnding.LF

    def data(self) -> bytes:
        """The bytes this message sends; raises EncodeError like the composer would."""
        return encode(self.text, self.mode, self.line_ending)


class MessagesFileError(ValueError):
    """A messages file cannot be used; the message names the file and the reason."""


class MessageError(ValueError):
    """A change to the saved messages does not make sense (no such name, bad name)."""


class MessageExists(MessageError):
    """A message with that name is already saved: the caller decides whether to replace."""


def check_name(name: str) -> str:
    """``name`` without surrounding blanks; raises MessageError for an unusable name.

    Names are shown in the UI as they are, so control characters are refused outright.
    """
    name = name.strip()
    if not name:
        raise MessageError("a message needs a name")
    if not name.isprintable():
        raise MessageError(f"{name!r}: names cannot contain control characters")
    return name


def load_messages_file(path: Path) -> list[SavedMessage]:
    """Every message in ``path``; raises MessagesFileError saying what is wrong where."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MessagesFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MessagesFileError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return _parse(raw)
    except ValueError as exc:
        raise MessagesFileError(f"{path}: {exc}") from exc


class MessageStore:
    """The saved messages in one JSON file, in the order they were added.

    Every change is written at once (atomically) and only takes effect in memory once the
    write succeeded, so what the list shows is what is on disk. A damaged file is reported
    by ``load`` and left alone until the first change replaces it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._messages: list[SavedMessage] = []

    @property
    def messages(self) -> tuple[SavedMessage, ...]:
        return tuple(self._messages)

    def get(self, name: str) -> SavedMessage | None:
        return next((m for m in self._messages if m.name == name), None)

    def load(self) -> str | None:
        """Read the file (a missing one is an empty list); a notice if it was damaged."""
        self._messages = []
        if not self.path.exists():
            return None
        try:
            self._messages = load_messages_file(self.path)
        except MessagesFileError as exc:
            return f"{exc}. None are shown; the file is left untouched until you save one."
        return None

    def add(self, message: SavedMessage, *, replace_existing: bool = False) -> SavedMessage:
        """Save ``message`` and return it as saved (name trimmed); an existing name raises
        MessageExists unless replacing, which keeps the old one's place in the list.

        Raises EncodeError for text that could never be sent (so every saved message can be),
        and SaveError if the file can't be written.
        """
        message = replace(message, name=check_name(message.name))
        message.data()
        index = self._index(message.name)
        messages = list(self._messages)
        if index is None:
            messages.append(message)
        elif replace_existing:
            messages[index] = message
        else:
            raise MessageExists(f"a message named {message.name!r} already exists")
        self._write(messages)
        return message

    def rename(self, old: str, new: str) -> SavedMessage:
        """Give a saved message a new, unused name; returns it under that name."""
        new = check_name(new)
        index = self._require(old)
        if new != old and self._index(new) is not None:
            raise MessageExists(f"a message named {new!r} already exists")
        messages = list(self._messages)
        messages[index] = renamed = replace(messages[index], name=new)
        self._write(messages)
        return renamed

    def delete(self, name: str) -> None:
        index = self._require(name)
        self._write(self._messages[:index] + self._messages[index + 1 :])

    def _index(self, name: str) -> int | None:
        return next((i for i, m in enumerate(self._messages) if m.name == name), None)

    def _require(self, name: str) -> int:
        index = self._index(name)
        if index is None:
            raise MessageError(f"no saved message named {name!r}")
        return index

    def _write(self, messages: list[SavedMessage]) -> None:
        write_json_atomic(self.path, _dump(messages))
        self._messages = messages


def _dump(messages: list[SavedMessage]) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "messages": [
            {"name": m.name, "text": m.text, "mode": m.mode, "line_ending": m.line_ending}
            for m in messages
        ],
    }


def _parse(raw: object) -> list[SavedMessage]:
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), list):
        raise ValueError('expected a JSON object with a "messages" list')
    if raw.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ValueError(f"unsupported version {raw['version']!r} (this workbench reads 1)")
    messages: list[SavedMessage] = []
    for number, entry in enumerate(raw["messages"], start=1):
        try:
            message = _parse_message(entry)
        except ValueError as exc:
            raise ValueError(f"message {number}: {exc}") from None
        if any(m.name == message.name for m in messages):
            raise ValueError(f"message {number}: the name {message.name!r} is used twice")
        messages.append(message)
    return messages


def _parse_message(entry: object) -> SavedMessage:
    """One entry, checked all the way to the bytes so a bad escape is found on loading."""
    if not isinstance(entry, dict):
        raise ValueError("expected an object with name and text")
    unknown = sorted(set(entry) - MESSAGE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (keys: name, text, mode, line_ending)")
    name, text = entry.get("name"), entry.get("text")
    if not isinstance(name, str) or not isinstance(text, str):
        raise ValueError("name and text must both be strings")
    message = SavedMessage(
        check_name(name),
        text,
        _choice(Mode, entry.get("mode", Mode.TEXT), "mode"),
        _choice(LineEnding, entry.get("line_ending", LineEnding.LF), "line_ending"),
    )
    try:
        message.data()
    except EncodeError as exc:
        raise ValueError(f"{message.name!r}: {exc}") from None
    return message


def _choice(kind: type[_Choice], value: object, key: str) -> _Choice:
    if isinstance(value, str) and value in {member.value for member in kind}:
        return kind(value)
    choices = ", ".join(member.value for member in kind)
    raise ValueError(f"{key} must be one of {choices}, not {value!r}")
