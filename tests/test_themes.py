"""Theme files: the shipped ones load and apply; broken ones are named and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from workbench.themes import (
    DEFAULT_THEME,
    EVENT_VARIABLES,
    ThemeError,
    event_variable_defaults,
    load_theme,
    load_themes,
    themes_dir,
)

REPO_THEMES = Path(__file__).parents[1] / "themes"
SHIPPED = sorted(REPO_THEMES.glob("*.toml"))
MINIMAL = 'name = "mine"\nprimary = "#123456"\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio, 1 to 21."""

    def luminance(colour: str) -> float:
        def channel(value: int) -> float:
            v = value / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        c = Color.parse(colour)
        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_themes_dir_finds_the_repo_folder() -> None:
    assert themes_dir() == REPO_THEMES


def test_at_least_four_themes_ship_including_the_default() -> None:
    names = {path.stem for path in SHIPPED}
    assert len(names) >= 4
    assert {DEFAULT_THEME, "workbench-light", "workbench-high-contrast"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_theme_loads_complete_and_readable(path: Path) -> None:
    theme = load_theme(path)
    assert theme.name == path.stem
    assert set(theme.variables) == set(EVENT_VARIABLES)
    assert theme.surface is not None
    for variable, colour in theme.variables.items():
        assert contrast(colour, theme.surface) >= 4.5, (variable, colour)


def test_load_themes_reads_every_shipped_file_without_notices() -> None:
    themes, notices = load_themes(REPO_THEMES)
    assert notices == []
    assert [theme.name for theme in themes] == [path.stem for path in SHIPPED]


def test_a_minimal_theme_needs_only_name_and_primary(tmp_path: Path) -> None:
    theme = load_theme(write(tmp_path, "mine.toml", MINIMAL))
    assert (theme.name, theme.primary, theme.dark, theme.variables) == ("mine", "#123456", True, {})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x\nprimary = "#fff"\n', "not valid TOML"),
        ("name = 'x'\nprimary = '#fff'\nname = 'y'\n", "line 3"),
        ('primary = "#123456"\n', "missing required key 'name'"),
        ('name = "x"\n', "missing required key 'primary'"),
        (MINIMAL + 'background = "#12345g"\n', "background = '#12345g' is not a colour"),
        (MINIMAL + "surface = 3\n", "surface must be a colour string"),
        (MINIMAL + '[events]\nrecv = "blurple"\n', "events.recv = 'blurple' is not a colour"),
        (MINIMAL + '[events]\nreceive = "red"\n', "unknown event kind 'receive'"),
        (MINIMAL + 'primay = "red"\n', "unknown key 'primay'"),
        (MINIMAL + 'dark = "yes"\n', "dark must be true or false"),
        ('name = "my theme"\nprimary = "red"\n', "name 'my theme' must be letters"),
    ],
)
def test_broken_theme_names_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, "broken.toml", text)
    with pytest.raises(ThemeError) as caught:
        load_theme(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_load_themes_keeps_the_good_and_explains_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "a-good.toml", MINIMAL)
    write(tmp_path, "b-bad.toml", "name = ")
    write(tmp_path, "c-twin.toml", MINIMAL)
    write(tmp_path, "notes.txt", "not a theme")
    themes, problems = load_themes(tmp_path)
    assert [theme.name for theme in themes] == ["mine"]
    notices = [str(problem) for problem in problems]
    assert len(notices) == 2
    assert "b-bad.toml: not valid TOML" in notices[0]
    assert "c-twin.toml: skipped, a-good.toml already defines 'mine'" in notices[1]


def test_load_themes_on_a_missing_folder_is_a_notice(tmp_path: Path) -> None:
    themes, problems = load_themes(tmp_path / "nowhere")
    assert themes == []
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'nowhere'}: not a folder, so no themes were loaded from it"
    ]
    assert load_themes(tmp_path / "nowhere", missing_ok=True) == ([], [])


def test_defaults_follow_the_theme_they_fall_back_on() -> None:
    dark = event_variable_defaults(BUILTIN_THEMES["textual-dark"])
    light = event_variable_defaults(BUILTIN_THEMES["textual-light"])
    assert set(dark) == set(light) == set(EVENT_VARIABLES)
    assert dark["wb-recv"] != light["wb-recv"]
    for colour in dark.values():
        Color.parse(colour)


class ThemedApp(App[None]):
    """Uses every event variable in CSS, as the event log does."""

    CSS = "\n".join(f"#{name} {{ color: ${name}; }}" for name in EVENT_VARIABLES)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return event_variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        for name in EVENT_VARIABLES:
            yield Static(name, id=name)


@pytest.mark.asyncio
async def test_every_theme_applies_in_a_live_app() -> None:
    themes, _ = load_themes(REPO_THEMES)
    app = ThemedApp()
    async with app.run_test() as pilot:
        for theme in themes:
            app.register_theme(theme)
        for theme in [*themes, BUILTIN_THEMES["textual-light"]]:
            app.theme = theme.name
            await pilot.pause()
            expected = {**event_variable_defaults(theme), **theme.variables}
            for name in EVENT_VARIABLES:
                shown = app.query_one(f"#{name}", Static).styles.color
                assert shown == Color.parse(expected[name]), (theme.name, name)
