"""User settings: what the workbench remembers between runs, as JSON in the config folder.

The file is the user's, so it is treated with care: a damaged file is reported and its
readable parts used, and nothing the user wrote is lost. Starting the app never writes; an
actual change (``SettingsStore.update``) writes atomically, keeps unknown keys and unusable
values as they were, and first keeps a damaged file aside as a ``.broken`` copy. The same
careful reading and writing (``read_json``, ``write_text_atomic``, ``move_aside``) serves the
saved messages.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from workbench.codec import LineEnding, Mode
from workbench.endpoints import valid_connect_timeout
from workbench.files import NotRegularFile, open_regular

CONFIG_DIR_ENV = "WORKBENCH_CONFIG_DIR"
DEFAULT_THEME = "workbench-dark"
SETTINGS_FILE = "settings.json"
USER_THEMES = "themes"


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
    connect_timeout: float = 10.0
    """Seconds a client tab waits for the server to accept (``--connect-timeout`` overrides
    it for one run)."""
    log_payload_mib: int = 64
    """Payload the event log keeps. More is not more useful to page through, and every fresh
    page costs: under a 1 GiB stream the headless app moved 620-840 MB/s with 64 MiB against
    610-780 MB/s with 256 MiB. Recordings keep everything."""


class SaveError(Exception):
    """A settings or messages file could not be written; the message says which and why."""


MAX_CONFIG_BYTES = 16 << 20
"""The most a settings or messages file may hold. Both are a few KiB in real use; a bigger
file is refused rather than read whole into memory."""

LOG_CAP_MAX = 100_000_000
LOG_PAYLOAD_MIB_MAX = 65_536
TEXT_SETTING_MAX = 4096


class ConfigFileError(ValueError):
    """A config file cannot be used as a whole; the message says why (not which file).

    ``damaged`` files (not JSON, nested too deeply, too big) hold nothing usable, so they may be
    moved aside to a ``.broken`` copy before the first save. Any other unusable file (unreadable,
    not a regular file, valid JSON of another shape or version) is never written over.
    """

    def __init__(self, reason: str, *, damaged: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.damaged = damaged


def config_dir() -> Path:
    """The per-user config folder; ``$WORKBENCH_CONFIG_DIR`` overrides it (tests, portable
    installs, several independent profiles)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path("workbench")


Signature = tuple[int, int, int, int] | None


def file_signature(path: Path) -> Signature:
    """What tells one version of a file from the next (an atomic save makes a new inode, an
    editor's in-place save a new size or time); None when there is no file."""
    try:
        info = path.stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def user_themes_dir(config: Path) -> Path:
    """Where the user's own theme files go: in the config folder, so an upgrade keeps them."""
    return config / USER_THEMES


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; raises OSError (FileNotFoundError when it is
    missing) or ConfigFileError for a file that is not a regular one or holds over ``limit``.

    A FIFO without a writer cannot hang the caller; it is refused like a device or a folder
    (see ``open_regular``).
    """
    try:
        fd, _ = open_regular(path)
    except NotRegularFile:
        raise ConfigFileError("not a regular file", damaged=False) from None
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ConfigFileError(f"larger than {_size(limit)}, so it is not read", damaged=True)
    return data


def read_json(path: Path, limit: int = MAX_CONFIG_BYTES) -> tuple[str, object]:
    """The text of ``path`` and its JSON value; raises FileNotFoundError or ConfigFileError.

    Never raises anything else, whatever the file holds: a deeply nested value makes the
    parser raise RecursionError, which is a damaged file here, not a crash.
    """
    try:
        text = read_limited(path, limit).decode("utf-8")
    except FileNotFoundError:
        raise
    except NotADirectoryError as exc:  # a file where a folder should be: no such file either
        raise FileNotFoundError(exc.errno, exc.strerror, str(path)) from exc
    except OSError as exc:
        raise ConfigFileError(f"cannot read ({exc.strerror or exc})", damaged=False) from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"not valid JSON ({exc})", damaged=True) from exc
    try:
        return text, json.loads(text)
    except RecursionError:
        raise ConfigFileError("not usable JSON (nested too deeply)", damaged=True) from None
    except ValueError as exc:
        raise ConfigFileError(f"not valid JSON ({exc})", damaged=True) from exc


def write_json_atomic(path: Path, data: object) -> None:
    """Replace ``path`` with ``data`` as JSON, all or nothing; raises SaveError."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, all or nothing; raises SaveError.

    The text goes to a temporary file next to the target, is flushed to disk, and is renamed
    over the target (a same-filesystem rename is atomic), then the folder is synced so the
    rename itself survives a crash: a reader sees the old file or the new one, never a part.
    The file keeps its permissions (a new one is owner-only, which suits settings and saved
    messages alike); a symlinked file is written where the link points, so the link stays;
    a file made read-only is not replaced.
    """
    try:
        target = path.resolve() if path.is_symlink() else path
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise SaveError(f"cannot save {path}: {exc}") from exc
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise SaveError(f"cannot save {path}: {exc.strerror or exc}") from exc
    if mode is not None and (not mode & 0o222 or not os.access(target, os.W_OK)):
        raise SaveError(f"cannot save {path}: the file is read-only, so it is left as it is")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise SaveError(f"cannot save {path}: {exc.strerror or exc}") from exc
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
            if mode is not None:
                os.fchmod(file.fileno(), mode)
        os.replace(temporary, target)
    except (OSError, ValueError) as exc:
        temporary.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SaveError(f"cannot save {path}: {reason}") from exc
    _sync_folder(target.parent)


def move_aside(path: Path, now: Callable[[], float] = time.time) -> Path:
    """Keep the damaged file ``path`` as ``NAME.YYYYmmdd-HHMMSS.broken`` next to it; returns the
    new name. Raises SaveError.

    A hard link keeps the damaged file under both names until the caller's atomic write
    replaces ``path``, so there is no moment without a file; it also never replaces an
    existing backup. Filesystems without hard links get a rename instead.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now()))
    for attempt in range(100):
        suffix = f".{stamp}.broken" if attempt == 0 else f".{stamp}-{attempt}.broken"
        backup = path.with_name(path.name + suffix)
        try:
            os.link(path, backup)
        except FileExistsError:
            continue
        except OSError:
            if backup.exists():
                continue
            try:
                os.rename(path, backup)
            except OSError as exc:
                raise SaveError(f"cannot keep {path} aside: {exc.strerror or exc}") from exc
        _sync_folder(path.parent)
        return backup
    raise SaveError(f"cannot keep {path} aside: too many .broken copies from {stamp}")


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; some systems cannot sync a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


class SettingsStore:
    """Reads and writes ``settings.json`` in ``folder``. What the user wrote is kept: unknown
    keys and values that do not check out are written back as they were; a damaged file is
    moved aside to a ``.broken`` copy before the first save; an unreadable one is never
    written over."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / SETTINGS_FILE
        self.settings = Settings()
        self._loaded = False
        self._raw: dict[str, Any] = {}
        self._bad: set[str] = set()
        self._damaged: str | None = None  # why the file holds nothing usable
        self._keep: str | None = None  # why the file must not be written
        self._keep_reported = False
        self._note: str | None = None
        self._signature: Signature = None

    def load(self) -> tuple[Settings, str | None]:
        """The saved settings (defaults where missing or unusable) and a notice if the file
        had problems. Never writes and never raises."""
        self.settings, self._raw, self._bad = Settings(), {}, set()
        self._damaged = self._keep = None
        self._loaded = True
        self._signature = file_signature(self.path)  # before reading: a later change shows
        try:
            _, raw = read_json(self.path)
        except FileNotFoundError:
            return self.settings, None
        except ConfigFileError as exc:
            raw, reason, damaged = None, exc.reason, exc.damaged
        else:
            reason, damaged = "expected a JSON object of settings", True
        if not isinstance(raw, dict):
            if damaged:
                self._damaged = reason
                then = "if you change a setting, it is kept as a .broken copy first"
            else:
                self._keep = reason
                then = "changes made now are not saved, so the file stays as it is"
            return self.settings, f"{self.path}: {reason}. Defaults are used; {then}."
        self._raw = raw
        self.settings, problems, self._bad = _from_mapping(raw)
        if not problems:
            return self.settings, None
        return self.settings, (
            f"{self.path}: {_listed(problems)}. Defaults are used for those; the file keeps "
            "what you wrote."
        )

    def update(self, **changes: Any) -> Settings:
        """Apply ``changes`` and save; raises SaveError if the file cannot be written.

        Saving only when something really changed keeps a damaged file intact when the app
        merely re-applies what it loaded (setting the saved theme on start, say). A file that
        must not be written is reported once; later changes only apply to this run. If the
        file changed since it was read (another workbench, an editor), the change is made to
        what is there now, so neither side's settings are lost.
        """
        if not self._loaded:
            # Saving before loading would replace the user's file with defaults.
            raise RuntimeError("SettingsStore.update() called before load()")
        if file_signature(self.path) != self._signature:
            self.load()
        updated = replace(self.settings, **changes)
        if updated == self.settings:
            return self.settings
        if self._keep is not None:
            self.settings = updated
            if not self._keep_reported:
                self._keep_reported = True
                raise SaveError(
                    f"settings not saved: {self.path} is left as it is ({self._keep}); "
                    "changes apply to this run only"
                )
            return self.settings
        old = self.settings
        changed = {name for name in changes if getattr(updated, name) != getattr(old, name)}
        data = dict(self._raw)
        for name, value in asdict(updated).items():
            if name in changed or name not in self._bad:
                data[name] = value
        if self._damaged is not None:
            backup = move_aside(self.path)
            self._note = (
                f"{self.path} was damaged ({self._damaged}): it is kept as {backup}, and your "
                "settings are saved anew."
            )
            self._damaged = None
        write_json_atomic(self.path, data)
        self._signature = file_signature(self.path)
        self.settings, self._raw, self._bad = updated, data, self._bad - changed
        return self.settings

    def take_note(self) -> str | None:
        """Something the user should hear about the last save (a damaged file kept aside)."""
        note, self._note = self._note, None
        return note


def _from_mapping(raw: dict[str, Any]) -> tuple[Settings, list[str], set[str]]:
    """Keep every field that checks out; name each one that does not."""
    values: dict[str, Any] = {}
    bad: set[str] = set()
    problems = [
        f"unknown setting {shown_value(key)} (ignored)" for key in raw if key not in _CHECKS
    ]
    for field in fields(Settings):
        if field.name not in raw:
            continue
        value = _CHECKS[field.name](raw[field.name])
        if value is None:
            problems.append(f"bad value for {field.name}: {shown_value(raw[field.name])}")
            bad.add(field.name)
        else:
            values[field.name] = value
    return Settings(**values), problems, bad


def _listed(problems: list[str], most: int = 5) -> str:
    """The first few problems, and how many more: a file of a million keys is one notice."""
    more = len(problems) - most
    return "; ".join(problems[:most]) + (f"; and {more} more" if more > 0 else "")


def shown_value(value: object) -> str:
    """A value for a notice: short whatever the file holds (a 10 MB string, a deep list)."""
    try:
        shown = repr(value)
    except RecursionError:
        shown = f"a deeply nested {type(value).__name__}"
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def _text(value: object) -> str | None:
    """Host, port, theme and folder names: short printable text (a NUL in a folder name
    would only fail later, when a recording starts)."""
    if isinstance(value, str) and len(value) <= TEXT_SETTING_MAX and value.isprintable():
        return value
    return None


def _whole(most: int) -> Callable[[object], int | None]:
    def check(value: object) -> int | None:
        # bool is an int to Python, but `true` is no log size.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= most:
            return None
        return value

    return check


def _choice(kind: type[StrEnum]) -> Callable[[object], StrEnum | None]:
    def check(value: object) -> StrEnum | None:
        return kind(value) if isinstance(value, str) and value in {m.value for m in kind} else None

    return check


_CHECKS: dict[str, Callable[[object], Any]] = {field.name: _text for field in fields(Settings)} | {
    "composer_mode": _choice(Mode),
    "line_ending": _choice(LineEnding),
    "log_cap": _whole(LOG_CAP_MAX),
    "log_payload_mib": _whole(LOG_PAYLOAD_MIB_MAX),
    "connect_timeout": valid_connect_timeout,
}
