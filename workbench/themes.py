"""Theme files: Textual themes plus workbench's own colours for event kinds, read from TOML.

Themes live in files rather than code so users can copy one, change a few colours and pick it
from the command palette without touching Python. A broken file must never stop the app: the
loader turns every problem into a ``ThemeError`` naming the file, and ``load_themes`` turns
those into notices while keeping the themes that did load.

Event colours become theme variables (``$wb-recv`` …). Textual's built-in themes know nothing
of them, so ``event_variable_defaults`` derives them from a theme's own colours: every theme
in the palette keeps a readable, distinct colour per kind.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

import workbench
from workbench.settings import DEFAULT_THEME

__all__ = [
    "DEFAULT_THEME",
    "EVENT_VARIABLES",
    "ThemeError",
    "event_variable_defaults",
    "load_theme",
    "load_themes",
    "themes_dir",
]

EVENT_VARIABLES = {
    "wb-accept": "text-primary",
    "wb-connect": "text-primary",
    "wb-send": "text-accent",
    "wb-recv": "text-success",
    "wb-close": "text-warning",
    "wb-error": "text-error",
    "wb-listen": "text-secondary",
}
"""Each event variable and the Textual variable it falls back to: the log's colours before
themes existed, so a theme without an ``[events]`` table looks as the log always did."""

COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "warning",
    "error",
    "success",
    "foreground",
)
REQUIRED_KEYS = ("name", "primary")
EVENT_KINDS = tuple(variable.removeprefix("wb-") for variable in EVENT_VARIABLES)

# The name becomes the CSS class "-theme-<name>" on the app, so it must be a valid identifier.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class ThemeError(ValueError):
    """A theme file cannot be used; the message names the file and what is wrong with it."""


def themes_dir() -> Path:
    """Where the shipped themes are: inside the package in an installed wheel (pyproject
    force-includes them there), else the repository root of a source checkout."""
    package = Path(workbench.__file__).parent
    candidates = (package / "themes", package.parent / "themes")
    return next((folder for folder in candidates if folder.is_dir()), candidates[0])


def event_variable_defaults(theme: Theme) -> dict[str, str]:
    """Concrete colours for every ``wb-*`` variable under ``theme``.

    Textual does not resolve ``$variables`` inside variable values, so the fallbacks have to
    be computed from the theme's generated colour system rather than referenced by name.
    """
    generated = theme.to_color_system().generate()
    return {variable: generated[source] for variable, source in EVENT_VARIABLES.items()}


def load_theme(path: Path) -> Theme:
    """Read one theme file; raises ThemeError saying which file and what is wrong."""
    try:
        with path.open("rb") as file:
            table = tomllib.load(file)
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return _theme_from_table(table)
    except ValueError as exc:
        raise ThemeError(f"{path}: {exc}") from exc


def load_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """Every usable theme in ``folder`` (by file name) and one notice per file left out.

    Never raises: a missing folder, a broken file or a second theme with a taken name each
    become a notice, so one bad file costs that theme and nothing else.
    """
    if not folder.is_dir():
        return [], [f"no themes loaded: {folder} is not a folder"]
    themes: dict[str, Theme] = {}
    notices: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            theme = load_theme(path)
        except ThemeError as exc:
            notices.append(str(exc))
            continue
        if theme.name in themes:
            notices.append(f"{path}: skipped, another file already defines {theme.name!r}")
            continue
        themes[theme.name] = theme
    return list(themes.values()), notices


def _theme_from_table(table: dict[str, Any]) -> Theme:
    unknown = sorted(set(table) - {*REQUIRED_KEYS, *COLOUR_KEYS, "dark", "events"})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (keys: name, dark, {', '.join(COLOUR_KEYS)})")
    missing = [key for key in REQUIRED_KEYS if key not in table]
    if missing:
        raise ValueError(f"missing required key {missing[0]!r}")
    name = table["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"name {name!r} must be letters, digits, '-' or '_', starting with a letter"
        )
    dark = table.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError(f"dark must be true or false, not {dark!r}")
    colours: dict[str, Any] = {key: _colour(key, table[key]) for key in COLOUR_KEYS if key in table}
    return Theme(
        name=name, dark=dark, variables=_event_variables(table.get("events", {})), **colours
    )


def _event_variables(events: object) -> dict[str, str]:
    if not isinstance(events, dict):
        raise ValueError("[events] must be a table of kind = colour")
    unknown = sorted(set(events) - set(EVENT_KINDS))
    if unknown:
        raise ValueError(
            f"unknown event kind {unknown[0]!r} in [events] ({', '.join(EVENT_KINDS)})"
        )
    return {f"wb-{kind}": _colour(f"events.{kind}", value) for kind, value in events.items()}


def _colour(key: str, value: object) -> str:
    """``value`` if Textual can parse it as a colour: a typo fails here, with the key, rather
    than as a stylesheet error when the theme is applied."""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a colour string, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f'{key} = {value!r} is not a colour (try "#rrggbb")') from None
    return value
