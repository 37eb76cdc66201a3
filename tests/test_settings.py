"""Settings: defaults, round trips, and a damaged file that is reported but never clobbered."""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs
import pytest

from workbench.codec import LineEnding, Mode
from workbench.settings import (
    CONFIG_DIR_ENV,
    SaveError,
    Settings,
    SettingsStore,
    config_dir,
    write_json_atomic,
)


def saved(folder: Path) -> dict[str, object]:
    data = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_defaults() -> None:
    settings = Settings()
    assert settings.theme == "workbench-dark"
    assert (settings.host, settings.port) == ("127.0.0.1", "0")
    assert (settings.connect_host, settings.connect_port) == ("127.0.0.1", "")
    assert (settings.composer_mode, settings.line_ending) == (Mode.TEXT, LineEnding.LF)
    assert (settings.recordings_dir, settings.log_cap) == ("recordings", 100_000)
    assert settings.log_payload_mib == 64


def test_no_file_means_defaults_and_no_notice(tmp_path: Path) -> None:
    assert SettingsStore(tmp_path).load() == (Settings(), None)
    assert list(tmp_path.iterdir()) == []


def test_update_round_trips(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.load()
    store.update(theme="workbench-light", port="5000", composer_mode=Mode.HEX, log_cap=500)
    store.update(line_ending=LineEnding.CRLF)
    assert saved(tmp_path)["composer_mode"] == "hex"
    settings, notice = SettingsStore(tmp_path).load()
    assert notice is None
    assert settings == Settings(
        theme="workbench-light",
        port="5000",
        composer_mode=Mode.HEX,
        line_ending=LineEnding.CRLF,
        log_cap=500,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temp files left


def test_missing_fields_take_defaults_quietly(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"theme": "workbench-amber"}', encoding="utf-8")
    assert SettingsStore(tmp_path).load() == (Settings(theme="workbench-amber"), None)


@pytest.mark.parametrize(
    "content",
    ["{not json", "\xff\xfe garbage", "[1, 2, 3]", '"just a string"', ""],
    ids=["broken", "binary", "list", "string", "empty"],
)
def test_garbage_gives_defaults_and_a_notice_and_stays_untouched(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content.encode("latin-1"))
    store = SettingsStore(tmp_path)
    settings, notice = store.load()
    assert settings == Settings()
    assert notice is not None and str(path) in notice
    store.update(theme=settings.theme)  # what the app does on start: no change, no write
    assert path.read_bytes() == content.encode("latin-1")


def test_wrong_types_fall_back_per_field(tmp_path: Path) -> None:
    raw = {
        "theme": "workbench-light",
        "port": 5000,
        "composer_mode": "binary",
        "line_ending": ["lf"],
        "log_cap": True,
        "recordings_dir": "caps",
        "colour": "blue",
    }
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    before = path.read_bytes()
    store = SettingsStore(tmp_path)
    settings, notice = store.load()
    assert settings == Settings(theme="workbench-light", recordings_dir="caps")
    assert notice is not None
    for problem in ("port: 5000", "composer_mode: 'binary'", "log_cap: True", "'colour'"):
        assert problem in notice
    assert path.read_bytes() == before


def test_a_change_keeps_what_the_file_could_not_use(tmp_path: Path) -> None:
    """Nothing the user wrote is lost: a bad value and an unknown key survive a save as
    written (and are reported again on the next start), only the changed setting is new."""
    path = tmp_path / "settings.json"
    path.write_text(
        '{"theme": "workbench-light", "log_cap": -1, "future": [1, 2]}', encoding="utf-8"
    )
    store = SettingsStore(tmp_path)
    store.load()
    store.update(port="7000")
    assert saved(tmp_path)["theme"] == "workbench-light"
    assert saved(tmp_path)["log_cap"] == -1
    assert saved(tmp_path)["future"] == [1, 2]
    settings, notice = SettingsStore(tmp_path).load()
    assert settings == Settings(theme="workbench-light", port="7000")
    assert notice is not None and "log_cap: -1" in notice
    store.update(log_cap=500)  # changing the bad setting replaces it
    assert SettingsStore(tmp_path).load()[0].log_cap == 500


def test_update_before_load_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        SettingsStore(tmp_path).update(theme="x")


def test_unwritable_folder_raises_save_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    store = SettingsStore(blocker / "sub")
    store.load()
    with pytest.raises(SaveError, match="cannot save"):
        store.update(theme="x")
    assert store.settings == Settings()


def test_write_json_atomic_creates_folders_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "data.json"
    write_json_atomic(path, {"é": 1})
    assert json.loads(path.read_text(encoding="utf-8")) == {"é": 1}
    assert path.stat().st_mode & 0o077 == 0


def test_config_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    assert config_dir() == tmp_path
    monkeypatch.delenv(CONFIG_DIR_ENV)
    assert config_dir() == platformdirs.user_config_path("workbench")
