"""Nothing the user wrote is ever lost: saved messages survive bad entries, damaged files,
failed writes and hostile files, through the loader and through the app."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile.config_files import BAD_ENTRY, DEEP, FILE_TEXT, FOREIGN_MEMBER
from workbench.codec import Mode
from workbench.saved_messages import (
    MessagesFileError,
    MessageStore,
    SavedMessage,
    read_messages_file,
)
from workbench.settings import MAX_CONFIG_BYTES, SaveError

HELLO = SavedMessage("hello", "hello")
PING = SavedMessage("ping", "de ad", Mode.HEX)


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def loaded(path: Path) -> tuple[MessageStore, str | None]:
    store = MessageStore(path)
    return store, store.load()


def test_one_bad_entry_costs_only_itself_and_one_notice_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", FILE_TEXT)
    store, notice = loaded(path)
    assert store.messages == (HELLO, PING)
    assert notice == (
        f"2 saved messages could not be read and are kept unchanged in {path}: "
        "unknown key 'n' (keys: name, text, mode, line_ending) at entry 2"
    )
    assert [(u.number, u.source) for u in store.unreadable] == [(2, BAD_ENTRY), (4, "42")]


def test_unreadable_entries_survive_every_kind_of_save_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", FILE_TEXT)
    store, _ = loaded(path)
    store.add(SavedMessage("new", "x"))
    store.rename("hello", "greeting")
    store.add(SavedMessage("ping", "be ef", Mode.HEX), replace_existing=True)
    store.delete("new")
    text = path.read_text(encoding="utf-8")
    assert BAD_ENTRY in text and FOREIGN_MEMBER in text
    # In their places: after the first message, and the 42 after ping.
    assert text.index('"greeting"') < text.index(BAD_ENTRY) < text.index('"be ef"')
    assert text.index('"be ef"') < text.index("    42\n")
    again, notice = loaded(path)
    assert [m.name for m in again.messages] == ["greeting", "ping"]
    assert notice is not None and notice.startswith("2 saved messages could not be read")
    assert [u.source for u in again.unreadable] == [BAD_ENTRY, "42"]


def test_a_failed_rename_leaves_the_file_exactly_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temp file + rename path: if the rename fails the original is never truncated."""
    path = write(tmp_path / "messages.json", FILE_TEXT)
    store, _ = loaded(path)

    def refuse(source: object, target: object) -> None:
        assert path.read_text(encoding="utf-8") == FILE_TEXT  # never truncated before it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SaveError, match="No space left"):
        store.add(SavedMessage("new", "x"))
    assert path.read_text(encoding="utf-8") == FILE_TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messages.json"]  # no temp left
    assert store.messages == (HELLO, PING)  # memory matches the disk


def test_a_save_is_synced_before_and_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "messages.json"
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source: str, target: str) -> None:
        steps.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    loaded(path)[0].add(HELLO)
    assert steps == ["fsync file", "rename", "fsync folder"]


def test_a_save_keeps_the_files_permissions_and_symlink(tmp_path: Path) -> None:
    real = write(tmp_path / "real.json", '{"messages": []}')
    real.chmod(0o640)
    link = tmp_path / "messages.json"
    link.symlink_to(real)
    loaded(link)[0].add(HELLO)
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert read_messages_file(real).messages == [HELLO]
    fresh = tmp_path / "new" / "messages.json"
    loaded(fresh)[0].add(HELLO)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600  # a new file is the owner's alone


def test_a_read_only_file_is_not_replaced(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", '{"messages": []}')
    path.chmod(0o444)
    with pytest.raises(SaveError, match="read-only"):
        loaded(path)[0].add(HELLO)
    assert path.read_text(encoding="utf-8") == '{"messages": []}'


@pytest.mark.parametrize(
    "content",
    [b"{broken", b"\xff\xfe\x00garbage", DEEP.encode(), b""],
    ids=["broken", "binary", "deep", "empty"],
)
def test_a_file_that_is_not_json_is_kept_aside_by_the_first_save(
    tmp_path: Path, content: bytes
) -> None:
    path = write(tmp_path / "messages.json", content)
    store, notice = loaded(path)
    assert notice is not None and str(path) in notice and ".broken" in notice
    assert path.read_bytes() == content  # loading never writes
    store.add(HELLO)
    (backup,) = tmp_path.glob("messages.json.*.broken")
    assert backup.read_bytes() == content
    note = store.take_note()
    assert note is not None and str(backup) in note
    assert read_messages_file(path).messages == [HELLO]


def test_a_second_damaged_file_gets_its_own_backup(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    for content in (b"{one", b"{two"):
        write(path, content)
        store, _ = loaded(path)
        store.add(HELLO)
    backups = sorted(tmp_path.glob("messages.json.*.broken"))
    assert sorted(b.read_bytes() for b in backups) == [b"{one", b"{two"]


def test_deep_nesting_is_reported_not_raised(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", DEEP)
    store, notice = loaded(path)
    assert notice is not None and "nested too deeply" in notice
    assert store.messages == ()
    inside = write(tmp_path / "inside.json", '{"messages": [' + DEEP + "]}")
    with pytest.raises(MessagesFileError, match="nested too deeply"):
        read_messages_file(inside)


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 2, "messages": [], "new": true}',
        '{"version": true, "messages": []}',
        '{"name": "package", "version": "1.0"}',
    ],
    ids=["newer-version", "boolean-version", "another-json-file"],
)
def test_valid_json_this_version_cannot_write_is_never_touched(
    tmp_path: Path, content: str
) -> None:
    path = write(tmp_path / "messages.json", content)
    store, notice = loaded(path)
    assert notice is not None and "saving messages is off" in notice
    with pytest.raises(SaveError, match="left as it is"):
        store.add(HELLO)
    assert path.read_text(encoding="utf-8") == content
    assert list(tmp_path.glob("*.broken")) == []


def test_an_oversized_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    with path.open("wb") as file:
        file.truncate(MAX_CONFIG_BYTES + 1)
    store, notice = loaded(path)
    assert notice is not None and "larger than 16 MiB" in notice


def test_a_fifo_neither_hangs_loading_nor_gets_replaced(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    os.mkfifo(path)
    started = time.monotonic()
    store, notice = loaded(path)
    assert time.monotonic() - started < 5
    assert notice is not None and "not a regular file" in notice
    with pytest.raises(SaveError):
        store.add(HELLO)
    assert stat.S_ISFIFO(path.lstat().st_mode)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBENCH_CONFIG_DIR": str(cwd / "config")},
        check=False,
    )


def test_cli_refuses_a_deeply_nested_messages_file_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.json", DEEP)
    done = run_cli("--messages", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "nested too deeply" in lines[0] and str(path) in lines[0]


def test_cli_accepts_a_messages_file_with_a_bad_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a file unusable as a whole stops the command; a bad entry is the app's notice."""
    path = write(tmp_path / "mine.json", FILE_TEXT)
    assert [m.name for m in read_messages_file(path).messages] == ["hello", "ping"]
    from workbench import cli

    started: list[Path | None] = []

    class FakeApp:
        return_code = 0
        crash_line = None

        def __init__(self, **options: object) -> None:
            started.append(options["messages_file"])  # type: ignore[arg-type]

        async def run_async(self) -> None:
            pass

    monkeypatch.setattr("workbench.ui.app.WorkbenchApp", FakeApp)
    assert cli.main(["--messages", str(path)]) == 0
    assert started == [path]
    assert json.loads(path.read_text(encoding="utf-8"))["comment"] == ["mine", 1000.0]


def test_two_workbenches_saving_to_one_file_keep_each_others_messages(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", FILE_TEXT)
    first, _ = loaded(path)
    second, _ = loaded(path)
    first.add(SavedMessage("from-first", "1"))
    second.add(SavedMessage("from-second", "2"))
    second.rename("hello", "greeting")
    first.delete("ping")
    names = [m.name for m in read_messages_file(path).messages]
    assert names == ["greeting", "from-first", "from-second"]
    assert BAD_ENTRY in path.read_text(encoding="utf-8")
