"""Theme files: any number of broken ones cost one notice and no start-up time, user themes
load from the config folder, and a user file cannot silently replace a shipped theme."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.ui.helpers import wait_until
from workbench.cli.launch import build_parser, check_theme
from workbench.settings import user_themes_dir
from workbench.themes import MAX_THEME_BYTES, load_all_themes, load_theme, themes_dir
from workbench.ui.app import WorkbenchApp

SHIPPED = themes_dir()
MINE = 'name = "mine"\nprimary = "#123456"\n'


def broken_themes(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"broken-{number:04}.toml").write_text("name = \n", encoding="utf-8")
    return folder


def test_a_thousand_broken_files_make_one_notice_naming_count_place_and_first_files(
    tmp_path: Path,
) -> None:
    user = broken_themes(tmp_path / "themes", 1000)
    (user / "mine.toml").write_text(MINE, encoding="utf-8")
    started = time.monotonic()
    themes, notice = load_all_themes(SHIPPED, user)
    assert time.monotonic() - started < 10  # about 50 ms; bounded generously for busy CI
    assert "mine" in [theme.name for theme in themes]
    assert notice is not None
    assert notice.startswith(f"1000 theme files could not be used (in {user}): ")
    assert "broken-0000.toml: not valid TOML" in notice
    assert "also broken-0001.toml, broken-0002.toml and 997 more." in notice
    assert "broken-0500" not in notice and len(notice) < 400


def test_a_user_theme_with_a_shipped_name_is_skipped_and_the_user_file_is_named(
    tmp_path: Path,
) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    clash = user / "my-dark.toml"
    clash.write_text('name = "workbench-dark"\nprimary = "#ff00ff"\n', encoding="utf-8")
    themes, notice = load_all_themes(SHIPPED, user)
    dark = [theme for theme in themes if theme.name == "workbench-dark"]
    assert dark == [load_theme(SHIPPED / "workbench-dark.toml")]
    assert notice is not None and notice.startswith(f"A theme file could not be used: {clash}: ")
    assert "'workbench-dark' is the name of a shipped theme" in notice
    assert str(SHIPPED) not in notice


def test_a_user_theme_with_a_built_in_name_is_skipped(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    (user / "nord.toml").write_text('name = "nord"\nprimary = "#ff00ff"\n', encoding="utf-8")
    themes, notice = load_all_themes(SHIPPED, user)
    assert "nord" not in [theme.name for theme in themes]
    assert notice is not None and "'nord' is the name of a built-in theme" in notice


def test_a_stray_copy_next_to_a_shipped_theme_does_not_push_it_out(tmp_path: Path) -> None:
    """The old loader kept whichever file sorted first and blamed the shipped one."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    original = (SHIPPED / "workbench-dark.toml").read_text(encoding="utf-8")
    (folder / "workbench-dark.toml").write_text(original, encoding="utf-8")
    copy = folder / "a-copy.toml"
    copy.write_text('name = "workbench-dark"\nprimary = "#ff00ff"\n', encoding="utf-8")
    themes, notice = load_all_themes(folder, tmp_path / "none")
    assert themes == [load_theme(SHIPPED / "workbench-dark.toml")]
    assert notice == (
        f"A theme file could not be used: {copy}: skipped, workbench-dark.toml already "
        "defines 'workbench-dark'"
    )


def test_an_oversized_or_special_theme_file_is_refused_without_hanging(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    with (user / "huge.toml").open("wb") as file:
        file.write(MINE.encode())
        file.truncate(MAX_THEME_BYTES + 1)
    os.mkfifo(user / "fifo.toml")
    (user / "folder.toml").mkdir()
    (user / "deep.toml").write_text("x = " + "[" * 60_000, encoding="utf-8")  # under 64 KiB
    started = time.monotonic()
    themes, notice = load_all_themes(SHIPPED, user)
    assert time.monotonic() - started < 10
    assert "mine" not in [theme.name for theme in themes]
    assert notice is not None and notice.startswith("4 theme files could not be used")
    assert "deep.toml: not " in notice  # the first reason in full; the others are named


def test_user_themes_load_from_the_config_folder_and_work_with_theme_flag() -> None:
    config = Path(os.environ["WORKBENCH_CONFIG_DIR"])
    user = user_themes_dir(config)
    user.mkdir(parents=True)
    (user / "mine.toml").write_text(MINE, encoding="utf-8")
    check_theme(build_parser(), "mine")  # no SystemExit
    with pytest.raises(SystemExit):
        check_theme(build_parser(), "theirs")
    assert str(user) in "".join(build_parser().format_help().split())  # wrapped anywhere


@pytest.mark.asyncio
async def test_the_app_starts_with_a_thousand_broken_themes_and_shows_one_notice(
    tmp_path: Path,
) -> None:
    broken_themes(user_themes_dir(tmp_path), 1000)
    (user_themes_dir(tmp_path) / "mine.toml").write_text(MINE, encoding="utf-8")
    app = WorkbenchApp(config=tmp_path, theme_name="mine")
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: bool(app._notifications), "the notice")
        await pilot.pause()
        shown = [notification.message for notification in app._notifications]
        assert len(shown) == 1 and shown[0].startswith("1000 theme files could not be used")
        assert app.theme == "mine"


def test_a_huge_value_in_a_theme_file_cannot_make_a_huge_notice(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    (user / "long.toml").write_text(MINE + f'background = "{"x" * 50_000}"\n', encoding="utf-8")
    _, notice = load_all_themes(SHIPPED, user)
    assert notice is not None and "background = 'xxx" in notice and len(notice) < 400
