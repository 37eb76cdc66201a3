"""Saved messages: exact round trips, careful persistence and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.codec import EncodeError, LineEnding, Mode
from workbench.saved_messages import (
    MessageError,
    MessageExists,
    MessagesFileError,
    MessageStore,
    SavedMessage,
    read_messages_file,
)

HELLO = SavedMessage("hello", "hello")
PING = SavedMessage("ping", r"PING\x00\r\n", Mode.ESCAPES, LineEnding.NONE)
MAGIC = SavedMessage("magic", "de ad BE EF", Mode.HEX, LineEnding.CRLF)


def loaded(path: Path) -> MessageStore:
    store = MessageStore(path)
    assert store.load() is None
    return store


@pytest.mark.parametrize(
    ("message", "data"),
    [
        (HELLO, b"hello\n"),
        (SavedMessage("crlf", "héllo", line_ending=LineEnding.CRLF), "héllo\r\n".encode()),
        (PING, b"PING\x00\r\n"),
        (MAGIC, b"\xde\xad\xbe\xef"),
    ],
    ids=["text", "utf8-crlf", "escapes", "hex"],
)
def test_data_encodes_like_the_composer(message: SavedMessage, data: bytes) -> None:
    assert message.data() == data


def test_data_raises_encode_error_for_bad_text() -> None:
    with pytest.raises(EncodeError):
        SavedMessage("odd", "abc", Mode.HEX).data()


def test_add_edit_rename_delete_persist(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    store = loaded(path)
    assert store.messages == ()
    for message in (HELLO, PING, MAGIC):
        store.add(message)
    assert loaded(path).messages == (HELLO, PING, MAGIC)

    with pytest.raises(MessageExists):
        store.add(SavedMessage("ping", "other"))
    edited = SavedMessage("ping", "pong", Mode.TEXT, LineEnding.CRLF)
    store.add(edited, replace_existing=True)
    assert loaded(path).messages == (HELLO, edited, MAGIC)  # replacing keeps the place

    assert store.rename("hello", "  greeting ") == SavedMessage("greeting", "hello")
    with pytest.raises(MessageExists):
        store.rename("greeting", "magic")
    store.delete("magic")
    assert [m.name for m in loaded(path).messages] == ["greeting", "ping"]
    assert store.get("ping") == edited


@pytest.mark.parametrize("name", ["", "   ", "tab\there", "esc\x1b[31m"])
def test_unusable_names_are_refused(tmp_path: Path, name: str) -> None:
    store = loaded(tmp_path / "messages.json")
    with pytest.raises(MessageError):
        store.add(SavedMessage(name, "x"))
    assert not (tmp_path / "messages.json").exists()


def test_unsendable_text_is_not_saved(tmp_path: Path) -> None:
    store = loaded(tmp_path / "messages.json")
    with pytest.raises(EncodeError):
        store.add(SavedMessage("bad", "\\q", Mode.ESCAPES))
    assert store.messages == ()


def test_missing_names_are_errors(tmp_path: Path) -> None:
    store = loaded(tmp_path / "messages.json")
    with pytest.raises(MessageError, match="no saved message named 'ghost'"):
        store.delete("ghost")
    with pytest.raises(MessageError):
        store.rename("ghost", "spirit")


def test_file_format_is_documented_json(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    loaded(path).add(PING)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "version": 1,
        "messages": [
            {"name": "ping", "text": r"PING\x00\r\n", "mode": "escapes", "line_ending": "none"}
        ],
    }


def test_corrupt_file_is_reported_and_kept_aside_by_the_first_change(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    path.write_text("{broken", encoding="utf-8")
    store = MessageStore(path)
    notice = store.load()
    assert notice is not None and str(path) in notice and "not valid JSON" in notice
    assert ".broken" in notice
    assert store.messages == ()
    assert path.read_text(encoding="utf-8") == "{broken"
    store.add(HELLO)
    note = store.take_note()
    assert note is not None and "kept as" in note
    (backup,) = tmp_path.glob("messages.json.*.broken")
    assert backup.read_text(encoding="utf-8") == "{broken"
    assert str(backup) in note
    assert loaded(path).messages == (HELLO,)


def test_read_messages_file_fills_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text('{"messages": [{"name": "hi", "text": "hi"}]}', encoding="utf-8")
    assert read_messages_file(path).messages == [SavedMessage("hi", "hi", Mode.TEXT, LineEnding.LF)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("nope", "not valid JSON"),
        ("[]", 'expected a JSON object with a "messages" list'),
        ('{"version": 2, "messages": []}', "unsupported version 2"),
    ],
)
def test_unusable_files_name_file_and_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MessagesFileError) as caught:
        read_messages_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("content", "number", "reason"),
    [
        ('{"messages": ["hi"]}', 1, "expected an object"),
        ('{"messages": [{"name": "a"}]}', 1, "name and text must both be strings"),
        ('{"messages": [{"name": "a", "text": "", "mode": "bin"}]}', 1, "mode must be one of"),
        ('{"messages": [{"name": "a", "text": "", "line_ending": "cr"}]}', 1, "line_ending must"),
        ('{"messages": [{"name": "a", "text": "", "colour": 1}]}', 1, "unknown key 'colour'"),
        ('{"messages": [{"name": "a", "text": "a", "mode": "hex"}]}', 1, "'a': hex"),
        (
            '{"messages": [{"name": "a", "text": ""}, {"name": "a", "text": ""}]}',
            2,
            "the name 'a' is used twice",
        ),
    ],
)
def test_bad_entries_are_kept_with_their_place_and_reason(
    tmp_path: Path, content: str, number: int, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    (entry,) = read_messages_file(path).unreadable
    assert entry.number == number
    assert reason in entry.reason
    assert entry.source in content


def test_read_messages_file_missing(tmp_path: Path) -> None:
    with pytest.raises(MessagesFileError, match="cannot read"):
        read_messages_file(tmp_path / "absent.json")
