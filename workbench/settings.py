"""User settings: what the workbench remembers between runs, as JSON in the config folder.

The file is the user's, so it is treated with care: a damaged file is reported and its
readable parts used, but it is never overwritten by merely starting the app. Only an actual
change (``SettingsStore.update``) writes, and writes are atomic so a crash mid-save cannot
leave half a file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from workbench.codec import LineEnding, Mode

CONFIG_DIR_ENV = "WORKBENCH_CONFIG_DIR"
DEFAULT_THEME = "workbench-dark"
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class Settings:
    """Everything remembered between runs; the defaults are what a first run looks like."""

    theme: str = DEFAULT_THEME
    host: str = "127.0.0.1"
    port: str = "0"
    connect_host: str = "127.0.0.1"
    connect_port: str = ""
    composer_mode: Mode = Mode.TEXT
    line_ending: LineEnding = LineEnding.LF
    recordings_dir: str = "recordings"
    log_cap: int = 100_000
    log_payload_mib: int = 64
    """Payload the event log keeps. More is not more useful to page through, and every fresh
    page costs: under a 1 GiB stream the headless app moved 620-840 MB/s with 64 MiB against
    610-780 MB/s with 256 MiB. Recordings keep everything."""


class SaveError(Exception):
    """A settings or messages file could not be written; the message says which and why."""


def config_dir() -> Path:
    """The per-user config folder; ``$WORKBENCH_CONFIG_DIR`` overrides it (tests, portable
    installs, several independent profiles)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path("workbench")


def write_json_atomic(path: Path, data: object) -> None:
    """Replace ``path`` with ``data`` as JSON, all or nothing; raises SaveError.

    The temporary file sits next to the target so ``os.replace`` is a same-filesystem rename,
    which is atomic. It is created owner-only, which suits settings and saved messages alike.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as file:
            temporary = Path(file.name)
            file.write(text)
    except OSError as exc:
        raise SaveError(f"cannot save {path}: {exc.strerror or exc}") from exc
    try:
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SaveError(f"cannot save {path}: {exc.strerror or exc}") from exc


class SettingsStore:
    """Reads and writes ``settings.json`` in ``folder``, never clobbering a damaged file
    until the user changes a setting."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / SETTINGS_FILE
        self.settings = Settings()
        self._loaded = False

    def load(self) -> tuple[Settings, str | None]:
        """The saved settings (defaults where missing or unreadable) and a notice if the file
        was damaged. Never writes and never raises."""
        self.settings, problems = _read(self.path)
        self._loaded = True
        if not problems:
            return self.settings, None
        return self.settings, (
            f"{self.path}: {'; '.join(problems)}. Defaults are used instead, and the file is "
            "left untouched until you change a setting."
        )

    def update(self, **changes: Any) -> Settings:
        """Apply ``changes`` and save; raises SaveError if the file cannot be written.

        Saving only when something really changed keeps a damaged file intact when the app
        merely re-applies what it loaded (setting the saved theme on start, say).
        """
        if not self._loaded:
            # Saving before loading would replace the user's file with defaults.
            raise RuntimeError("SettingsStore.update() called before load()")
        updated = replace(self.settings, **changes)
        if updated != self.settings:
            write_json_atomic(self.path, asdict(updated))
            self.settings = updated
        return self.settings


def _read(path: Path) -> tuple[Settings, list[str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        return Settings(), [f"cannot read ({exc.strerror or exc})"]
    except (ValueError, UnicodeDecodeError) as exc:
        return Settings(), [f"not valid JSON ({exc})"]
    if not isinstance(raw, dict):
        return Settings(), ["expected a JSON object of settings"]
    return _from_mapping(raw)


def _from_mapping(raw: dict[str, Any]) -> tuple[Settings, list[str]]:
    """Keep every field that checks out; name each one that does not."""
    values: dict[str, Any] = {}
    problems = [f"unknown setting {key!r} (ignored)" for key in raw if key not in _CHECKS]
    for field in fields(Settings):
        if field.name not in raw:
            continue
        value = _CHECKS[field.name](raw[field.name])
        if value is None:
            problems.append(f"bad value for {field.name}: {raw[field.name]!r}")
        else:
            values[field.name] = value
    return Settings(**values), problems


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _positive(value: object) -> int | None:
    # bool is an int to Python, but `true` is no log size.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _choice(kind: type[StrEnum]) -> Callable[[object], StrEnum | None]:
    def check(value: object) -> StrEnum | None:
        return kind(value) if isinstance(value, str) and value in {m.value for m in kind} else None

    return check


_CHECKS: dict[str, Callable[[object], Any]] = {field.name: _text for field in fields(Settings)} | {
    "composer_mode": _choice(Mode),
    "line_ending": _choice(LineEnding),
    "log_cap": _positive,
    "log_payload_mib": _positive,
}
