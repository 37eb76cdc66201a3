"""Theme files: Textual themes plus workbench's own colours for event kinds, read from TOML.

Themes live in files rather than code so users can copy one, change a few colours and pick it
from the command palette without touching Python. The shipped ones sit in the package; the
user's own go in ``themes/`` in the config folder, where an upgrade leaves them alone. A broken
file must never stop the app or slow its start: the loader turns every problem into a
``ThemeError`` naming the file, and ``load_all_themes`` sums them all up in one notice while
keeping the themes that did load.

A user theme may not take the name of a shipped or built-in theme: it is skipped, and the
notice names the user's file and the clash. Letting it win would silently change what a
name in settings.json means, and hide every later fix to the shipped theme; a rename is one
line in the user's file and keeps both in the palette.

Event colours become theme variables (``$wb-recv`` …). Textual's built-in themes know nothing
of them, so ``event_variable_defaults`` derives them from a theme's own colours: every theme
in the palette keeps a readable, distinct colour per kind.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

import workbench
from workbench.settings import DEFAULT_THEME, ConfigFileError, read_limited, user_themes_dir

__all__ = [
    "DEFAULT_THEME",
    "EVENT_VARIABLES",
    "ThemeError",
    "ThemeProblem",
    "event_variable_defaults",
    "load_all_themes",
    "load_theme",
    "load_themes",
    "themes_dir",
    "themes_notice",
    "user_themes_dir",
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

MAX_THEME_BYTES = 64 << 10
"""A theme file is under 2 KiB; anything much bigger is not one, and is not read whole."""
NOTICE_NAMES = 3
"""How many file names the one notice about unusable theme files spells out."""
REASON_MAX = 200

# The name becomes the CSS class "-theme-<name>" on the app, so it must be a valid identifier.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class ThemeError(ValueError):
    """A theme file cannot be used; the message names the file and what is wrong with it."""

    def __init__(self, path: Path, reason: str) -> None:
        if len(reason) > REASON_MAX:  # a file can make a value in a reason any length
            reason = f"{reason[: REASON_MAX - 3]}..."
        super().__init__(f"{path}: {reason}")
        self.problem = ThemeProblem(path, reason)


@dataclass(frozen=True)
class ThemeProblem:
    """One theme file left out, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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
        data = read_limited(path, MAX_THEME_BYTES)
    except OSError as exc:
        raise ThemeError(path, f"cannot read: {exc.strerror or exc}") from exc
    except ConfigFileError as exc:
        raise ThemeError(path, exc.reason) from exc
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(path, f"not valid TOML: {exc}") from exc
    except RecursionError:
        raise ThemeError(path, "not usable TOML (nested too deeply)") from None
    try:
        return _theme_from_table(table)
    except ValueError as exc:
        raise ThemeError(path, str(exc)) from exc


def load_themes(
    folder: Path, *, taken: Collection[str] = (), missing_ok: bool = False
) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every usable theme in ``folder`` (in file name order) and each file left out, and why.

    Never raises: a missing folder (unless ``missing_ok``), a broken file, a name in ``taken``
    or a second file with the same name each become a problem, so one bad file costs that
    theme and nothing else. Of two files with the same name, the one named after its theme
    wins: a stray copy cannot push out the original, and the copy is the one named.
    """
    if not folder.is_dir():
        if missing_ok and not folder.exists():
            return [], []
        return [], [ThemeProblem(folder, "not a folder, so no themes were loaded from it")]
    problems: list[ThemeProblem] = []
    loaded: list[tuple[Path, Theme]] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            theme = load_theme(path)
        except ThemeError as exc:
            problems.append(exc.problem)
            continue
        if theme.name in taken:
            problems.append(ThemeProblem(path, taken_reason(theme.name)))
            continue
        loaded.append((path, theme))
    chosen: dict[str, Path] = {}
    for path, theme in sorted(loaded, key=lambda pair: pair[0].stem != pair[1].name):
        if theme.name in chosen:
            reason = f"skipped, {chosen[theme.name].name} already defines {theme.name!r}"
            problems.append(ThemeProblem(path, reason))
        else:
            chosen[theme.name] = path
    themes = [theme for path, theme in loaded if chosen[theme.name] == path]
    return themes, sorted(problems, key=lambda problem: problem.path)


def taken_reason(name: str) -> str:
    kind = "built-in" if name in BUILTIN_THEMES else "shipped"
    return (
        f"skipped, {name!r} is the name of a {kind} theme; give yours a name of its own "
        f'(name = "{name}-mine")'
    )


def load_all_themes(shipped: Path, user: Path) -> tuple[list[Theme], str | None]:
    """The shipped themes, then the user's, and one notice for every file left out.

    A user theme cannot reuse the name of a shipped or a Textual built-in theme.
    """
    themes, problems = load_themes(shipped, taken=BUILTIN_THEMES)
    taken = {*BUILTIN_THEMES, *(theme.name for theme in themes)}
    mine, my_problems = load_themes(user, taken=taken, missing_ok=True)
    return [*themes, *mine], themes_notice([*problems, *my_problems])


def theme_names(user: Path) -> list[str]:
    """Every theme a user may name: Textual's built-ins, ours and the user's own, sorted."""
    themes, _ = load_all_themes(themes_dir(), user)
    return sorted({*BUILTIN_THEMES, *(theme.name for theme in themes)})


def themes_notice(problems: list[ThemeProblem]) -> str | None:
    """One notice however many files failed: how many, where, the first few names, and the
    first reason in full."""
    if not problems:
        return None
    if len(problems) == 1:
        return f"A theme file could not be used: {problems[0]}"
    folders = ", ".join(dict.fromkeys(str(problem.path.parent) for problem in problems))
    first, *others = problems
    named = ", ".join(problem.path.name for problem in others[: NOTICE_NAMES - 1])
    more = len(problems) - min(len(problems), NOTICE_NAMES)
    rest = f"; also {named}" + (f" and {more} more" if more else "")
    return (
        f"{len(problems)} theme files could not be used (in {folders}): "
        f"{first.path.name}: {first.reason}{rest}."
    )


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
