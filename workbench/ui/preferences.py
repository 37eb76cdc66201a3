"""What the app loads at start and keeps across runs: settings, saved messages and themes.

Each file that cannot be read leaves a notice (shown once the screen is up) and its defaults,
never a traceback; a change the user makes while running is remembered with ``remember``,
and a save that fails says so in a toast.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from workbench.saved_messages import MESSAGES_FILE, MessageStore
from workbench.settings import SaveError, SettingsStore
from workbench.themes import DEFAULT_THEME, load_all_themes, themes_dir, user_themes_dir


class Preferences:
    """The settings, saved messages and themes of one run, for the app."""

    def __init__(self, app: App[None], folder: Path, messages_file: Path | None) -> None:
        self.app = app
        self.store = SettingsStore(folder)
        self.settings, settings_notice = self.store.load()
        self.messages = MessageStore(messages_file or folder / MESSAGES_FILE)
        themes, theme_notice = load_all_themes(themes_dir(), user_themes_dir(folder))
        notices = [settings_notice, self.messages.load(), theme_notice]
        self.notices = [notice for notice in notices if notice]
        """What could not be loaded, to show once the screen is up."""
        for theme in themes:
            app.register_theme(theme)

    def use_theme(self, wanted: str) -> None:
        """Use the theme ``wanted``, or say it is not available and use the default."""
        available = self.app.available_themes
        if wanted not in available:
            fallback = DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"
            self.notices.append(f"theme {wanted!r} is not available; using {fallback}")
            wanted = fallback
        self.app.theme = wanted

    def remember(self, **changes: object) -> None:
        """Save ``changes`` to the settings file (a failure is a toast, not an error)."""
        try:
            self.store.update(**changes)
        except SaveError as exc:
            self.app.notify(str(exc), title="settings not saved", severity="warning", markup=False)
        if note := self.store.take_note():
            self.app.notify(note, title="settings", severity="warning", timeout=15, markup=False)
