"""settings.json cannot crash, hang or lose what the user wrote: every unusable value falls
back to its default with a notice, hostile files are reported, and saves are atomic."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from workbench.settings import MAX_CONFIG_BYTES, SaveError, Settings, SettingsStore

DEEP = "[" * 100_000


def store_of(folder: Path, content: str | bytes | None = None) -> tuple[SettingsStore, str | None]:
    if content is not None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / "settings.json").write_bytes(data)
    store = SettingsStore(folder)
    return store, store.load()[1]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("log_cap", True),
        ("log_cap", 1.5),
        ("log_cap", 0),
        ("log_cap", -1),
        ("log_cap", 10**12),
        ("log_cap", "100"),
        ("log_payload_mib", False),
        ("log_payload_mib", 10**9),
        ("log_payload_mib", 1e400),
        ("log_payload_mib", None),
        ("theme", 5),
        ("theme", {"name": "x"}),
        ("host", "x" * 5000),
        ("port", ["5000"]),
        ("recordings_dir", "rec\x00ordings"),
        ("recordings_dir", "line\nbreak"),
        ("composer_mode", "binary"),
        ("line_ending", 1),
    ],
)
def test_a_wrong_type_or_out_of_range_value_falls_back_with_a_notice(
    tmp_path: Path, key: str, value: object
) -> None:
    text = json.dumps({key: value, "theme": "workbench-light"} if key != "theme" else {key: value})
    store, notice = store_of(tmp_path, text)
    expected = Settings(theme="workbench-light") if key != "theme" else Settings()
    assert store.settings == expected
    assert notice is not None and f"bad value for {key}" in notice
    assert len(notice) < 500  # a huge value is cut short in the notice


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (DEEP, "nested too deeply"),
        ('{"theme": ' + DEEP, "nested too deeply"),
        ("[1, 2]", "expected a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
    ids=["deep", "deep-inside", "list", "binary"],
)
def test_a_damaged_file_gives_defaults_and_is_kept_aside_by_the_first_change(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    store, notice = store_of(tmp_path, content)
    assert store.settings == Settings()
    assert notice is not None and reason in notice
    store.update(port="7000")
    (backup,) = tmp_path.glob("settings.json.*.broken")
    original = content.encode("utf-8") if isinstance(content, str) else content
    assert backup.read_bytes() == original
    note = store.take_note()
    assert note is not None and str(backup) in note
    assert SettingsStore(tmp_path).load() == (Settings(port="7000"), None)


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    with (tmp_path / "settings.json").open("wb") as file:
        file.truncate(MAX_CONFIG_BYTES + 1)
    store, notice = store_of(tmp_path)
    assert store.settings == Settings()
    assert notice is not None and "larger than 16 MiB" in notice


def test_a_fifo_or_folder_is_reported_once_and_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "settings.json")
    folder = tmp_path / "folder"
    (folder / "settings.json").mkdir(parents=True)
    for where, reason in ((fifo, "not a regular file"), (folder, "Is a directory")):
        started = time.monotonic()
        store, notice = store_of(where)
        assert time.monotonic() - started < 5
        assert notice is not None and reason in notice
        with pytest.raises(SaveError, match="left as it is"):
            store.update(port="1")
        assert store.update(port="2").port == "2"  # said once; later changes apply quietly
    assert stat.S_ISFIFO((fifo / "settings.json").lstat().st_mode)
    assert (folder / "settings.json").is_dir()


def test_a_failed_rename_leaves_settings_exactly_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = '{"theme": "workbench-light"}'
    store, _ = store_of(tmp_path, text)

    def refuse(source: object, target: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SaveError, match="Input/output error"):
        store.update(port="7000")
    assert (tmp_path / "settings.json").read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
    assert store.settings == Settings(theme="workbench-light")


def test_a_save_keeps_the_settings_files_permissions(tmp_path: Path) -> None:
    store, _ = store_of(tmp_path, "{}")
    (tmp_path / "settings.json").chmod(0o644)
    store.update(port="7000")
    assert stat.S_IMODE((tmp_path / "settings.json").stat().st_mode) == 0o644


def test_many_unknown_keys_make_one_short_notice_and_survive_a_save(tmp_path: Path) -> None:
    raw = {f"k{number}": 0 for number in range(200_000)}
    store, notice = store_of(tmp_path, json.dumps(raw))
    assert notice is not None and "and 199995 more" in notice and len(notice) < 1000
    store.update(port="7000")
    saved = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert set(raw) <= set(saved) and saved["port"] == "7000"


def test_a_symlink_loop_is_a_save_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "settings.json").symlink_to(tmp_path / "settings.json")
    store, notice = store_of(tmp_path)
    assert notice is not None
    with pytest.raises(SaveError):
        store.update(port="7000")


def test_two_workbenches_changing_settings_keep_each_others_changes(tmp_path: Path) -> None:
    first, _ = store_of(tmp_path, '{"theme": "workbench-light"}')
    second, _ = store_of(tmp_path)
    first.update(port="7000")
    second.update(connect_port="8000")
    assert SettingsStore(tmp_path).load() == (
        Settings(theme="workbench-light", port="7000", connect_port="8000"),
        None,
    )
