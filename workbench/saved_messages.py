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

An entry that cannot be loaded (a typo, a mode this version does not know) is kept exactly as
written: the store remembers its JSON text and writes it back in its place on every save, as
it does with top-level keys it does not know. A file that is not JSON at all is never written
over: the first save keeps it aside as ``messages.json.<time>.broken``. A file of another
shape or a newer version is not touched at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from workbench.codec import EncodeError, LineEnding, Mode, encode
from workbench.settings import (
    ConfigFileError,
    SaveError,
    Signature,
    file_signature,
    move_aside,
    read_json,
    shown_value,
    write_text_atomic,
)

MESSAGES_FILE = "messages.json"
FORMAT_VERSION = 1
MESSAGE_KEYS = {"name", "text", "mode", "line_ending"}

_Choice = TypeVar("_Choice", Mode, LineEnding)
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


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


@dataclass(frozen=True)
class Unreadable:
    """An entry that could not be loaded, kept as the JSON text it was written as."""

    number: int
    """Its place in the file's list when it was read, from 1."""
    source: str
    reason: str


@dataclass(frozen=True)
class MessagesFile:
    """A messages file as read: every entry in order, good or not, and the top-level members
    other than ``version`` and ``messages`` as written (``"key": value`` text)."""

    entries: tuple[SavedMessage | Unreadable, ...]
    extra: tuple[str, ...] = ()

    @property
    def messages(self) -> list[SavedMessage]:
        return [entry for entry in self.entries if isinstance(entry, SavedMessage)]

    @property
    def unreadable(self) -> list[Unreadable]:
        return [entry for entry in self.entries if isinstance(entry, Unreadable)]


class MessagesFileError(ValueError):
    """A messages file cannot be used as a whole; the message names the file and the reason.
    ``damaged`` says it holds nothing usable, so a save may keep it aside and start anew."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


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


def read_messages_file(path: Path) -> MessagesFile:
    """Every entry of ``path``; raises MessagesFileError if the file as a whole is unusable
    (missing, unreadable, not JSON, too big or deep, another shape or version).

    An entry that does not check out does not make the file unusable: it comes back as an
    Unreadable holding its reason and its text.
    """
    try:
        text, raw = read_json(path)
    except FileNotFoundError as exc:
        raise MessagesFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except ConfigFileError as exc:
        raise MessagesFileError(f"{path}: {exc.reason}", damaged=exc.damaged) from exc
    try:
        return _parse(text, raw)
    except RecursionError:
        raise MessagesFileError(f"{path}: nested too deeply", damaged=True) from None
    except ValueError as exc:
        raise MessagesFileError(f"{path}: {exc}") from exc


def unreadable_notice(path: Path, unreadable: list[Unreadable]) -> str | None:
    """One sentence about every entry that could not be loaded, or None when all could."""
    if not unreadable:
        return None
    first, count = unreadable[0], len(unreadable)
    verb = "is" if count == 1 else "are"
    return (
        f"{count} saved message{'' if count == 1 else 's'} could not be read and {verb} kept "
        f"unchanged in {path}: {first.reason} at entry {first.number}"
    )


class MessageStore:
    """The saved messages in one JSON file, in the order they were added.

    Every change is written at once (atomically) and only takes effect in memory once the
    write succeeded, so what the list shows is what is on disk. Entries that could not be
    loaded are written back in their place exactly as they were read. A damaged file is
    reported by ``load`` and kept aside as a ``.broken`` copy by the first change; a file that
    is valid JSON but not one this version can write is never changed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[SavedMessage | Unreadable] = []
        self._extra: tuple[str, ...] = ()
        self._damaged: str | None = None  # why the file holds nothing usable
        self._keep: str | None = None  # why the file must not be written
        self._note: str | None = None
        self._signature: Signature = None

    @property
    def messages(self) -> tuple[SavedMessage, ...]:
        return tuple(entry for entry in self._entries if isinstance(entry, SavedMessage))

    @property
    def unreadable(self) -> tuple[Unreadable, ...]:
        return tuple(entry for entry in self._entries if isinstance(entry, Unreadable))

    def get(self, name: str) -> SavedMessage | None:
        return next((m for m in self.messages if m.name == name), None)

    def load(self) -> str | None:
        """Read the file (a missing one is an empty list); a notice if part or all of it
        could not be used. Never writes and never raises."""
        self._entries, self._extra, self._damaged, self._keep = [], (), None, None
        self._signature = file_signature(self.path)  # before reading: a later change shows
        try:
            read = read_messages_file(self.path)
        except MessagesFileError as exc:
            if not self.path.exists() and not self.path.is_symlink():
                return None
            if exc.damaged:
                self._damaged = str(exc).removeprefix(f"{self.path}: ")
                then = "saving a message first keeps it aside as a .broken copy"
            else:
                self._keep = str(exc).removeprefix(f"{self.path}: ")
                then = "saving messages is off, so the file stays as it is"
            return f"{exc}. No saved messages are shown; {then}."
        self._entries, self._extra = list(read.entries), read.extra
        return unreadable_notice(self.path, read.unreadable)

    def add(self, message: SavedMessage, *, replace_existing: bool = False) -> SavedMessage:
        """Save ``message`` and return it as saved (name trimmed); an existing name raises
        MessageExists unless replacing, which keeps the old one's place in the list.

        Raises EncodeError for text that could never be sent (so every saved message can be),
        and SaveError if the file can't be written.
        """
        message = replace(message, name=check_name(message.name))
        message.data()
        self._follow_disk()
        index = self._index(message.name)
        entries = list(self._entries)
        if index is None:
            entries.append(message)
        elif replace_existing:
            entries[index] = message
        else:
            raise MessageExists(f"a message named {message.name!r} already exists")
        self._write(entries)
        return message

    def rename(self, old: str, new: str) -> SavedMessage:
        """Give a saved message a new, unused name; returns it under that name."""
        new = check_name(new)
        self._follow_disk()
        index = self._require(old)
        if new != old and self._index(new) is not None:
            raise MessageExists(f"a message named {new!r} already exists")
        entries = list(self._entries)
        current = entries[index]
        assert isinstance(current, SavedMessage)
        entries[index] = renamed = replace(current, name=new)
        self._write(entries)
        return renamed

    def delete(self, name: str) -> None:
        self._follow_disk()
        index = self._require(name)
        self._write(self._entries[:index] + self._entries[index + 1 :])

    def take_note(self) -> str | None:
        """Something the user should hear about the last save (a damaged file kept aside)."""
        note, self._note = self._note, None
        return note

    def _follow_disk(self) -> None:
        """Another workbench or an editor may have changed the file since it was read: a
        change is made to what is there now, so a save never drops theirs."""
        if file_signature(self.path) != self._signature:
            self.load()

    def _index(self, name: str) -> int | None:
        return next(
            (
                i
                for i, entry in enumerate(self._entries)
                if isinstance(entry, SavedMessage) and entry.name == name
            ),
            None,
        )

    def _require(self, name: str) -> int:
        index = self._index(name)
        if index is None:
            raise MessageError(f"no saved message named {name!r}")
        return index

    def _write(self, entries: list[SavedMessage | Unreadable]) -> None:
        if self._keep is not None:
            raise SaveError(
                f"not saved: {self.path} is left as it is ({self._keep}); fix or move that "
                "file to save messages"
            )
        if self._damaged is not None:
            backup = move_aside(self.path)
            self._note = (
                f"{self.path} could not be read ({self._damaged}): it is kept as {backup}, "
                "and your messages are saved in a new file."
            )
            self._damaged = None
        write_text_atomic(self.path, render(entries, self._extra))
        self._signature = file_signature(self.path)
        self._entries = entries


def render(entries: list[SavedMessage | Unreadable], extra: tuple[str, ...] = ()) -> str:
    """The file's text: one message per line, unreadable entries and unknown top-level
    members exactly as they were written."""
    items = [
        entry.source
        if isinstance(entry, Unreadable)
        else json.dumps(_as_json(entry), ensure_ascii=False)
        for entry in entries
    ]
    listed = "[\n" + ",\n".join(f"    {item}" for item in items) + "\n  ]" if items else "[]"
    members = [f'"version": {FORMAT_VERSION}', f'"messages": {listed}', *extra]
    return "{\n" + ",\n".join(f"  {member}" for member in members) + "\n}\n"


def _as_json(message: SavedMessage) -> dict[str, str]:
    return {
        "name": message.name,
        "text": message.text,
        "mode": message.mode.value,
        "line_ending": message.line_ending.value,
    }


def _parse(text: str, raw: object) -> MessagesFile:
    """``raw`` is ``text`` already parsed, which proves it valid JSON; the text is walked
    again only to find where each entry and member starts and ends."""
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), list):
        raise ValueError('expected a JSON object with a "messages" list')
    version = raw.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:  # true == 1 to Python
        raise ValueError(f"unsupported version {shown_value(version)} (this workbench reads 1)")
    extra: list[str] = []
    seen: set[str] = set()
    listed = 0
    for key, member, value_at in _members(text):
        if key in seen and key in ("version", "messages"):
            raise ValueError(f"the key {key!r} appears twice")
        seen.add(key)
        if key == "messages":
            listed = value_at
        elif key != "version":
            extra.append(member)
    entries: list[SavedMessage | Unreadable] = []
    names: set[str] = set()
    for number, (value, source) in enumerate(_items(text, listed), start=1):
        try:
            message = _parse_message(value)
            if message.name in names:
                raise ValueError(f"the name {message.name!r} is used twice")
        except ValueError as exc:
            reason = str(exc)
            reason = reason if len(reason) <= 200 else f"{reason[:197]}..."
            entries.append(Unreadable(number, source, reason))
            continue
        names.add(message.name)
        entries.append(message)
    return MessagesFile(tuple(entries), tuple(extra))


def _skip(text: str, at: int) -> int:
    """Past any JSON whitespace from ``at``."""
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _members(text: str) -> list[tuple[str, str, int]]:
    """Each member of the top-level object: (key, its text as written, where its value
    starts). ``text`` is known to be a valid JSON object."""
    members: list[tuple[str, str, int]] = []
    at = _skip(text, _skip(text, 0) + 1)  # past "{"
    while text[at] != "}":
        start = at
        key, at = _DECODER.raw_decode(text, at)
        value_at = _skip(text, _skip(text, at) + 1)  # past ":"
        _, at = _DECODER.raw_decode(text, value_at)
        members.append((key, text[start:at], value_at))
        at = _skip(text, at)
        if text[at] == ",":
            at = _skip(text, at + 1)
    return members


def _items(text: str, at: int) -> list[tuple[object, str]]:
    """Each value in the JSON array starting at ``at``, with its text as written."""
    items: list[tuple[object, str]] = []
    at = _skip(text, at + 1)  # past "["
    while text[at] != "]":
        value, end = _DECODER.raw_decode(text, at)
        items.append((value, text[at:end]))
        at = _skip(text, end)
        if text[at] == ",":
            at = _skip(text, at + 1)
    return items


def _parse_message(entry: object) -> SavedMessage:
    """One entry, checked all the way to the bytes so a bad escape is found on loading."""
    if not isinstance(entry, dict):
        raise ValueError("expected an object with name and text")
    unknown = sorted(set(entry) - MESSAGE_KEYS)
    if unknown:
        key = shown_value(unknown[0])
        raise ValueError(f"unknown key {key} (keys: name, text, mode, line_ending)")
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
    raise ValueError(f"{key} must be one of {choices}, not {shown_value(value)}")
