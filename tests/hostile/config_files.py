"""Hostile saved-messages files, shared by the loader's tests and the app's
(``test_config_messages.py``, ``test_config_app.py``)."""

from __future__ import annotations

# Odd spacing, escapes, key order and a NaN: everything a re-dump would change.
BAD_ENTRY = '{ "name" :"typo",\n\t  "text": "caf\\u00e9", "mode": "binary",  "n": NaN }'
FOREIGN_MEMBER = '"comment":   [ "mine",  1e3 ]'
FILE_TEXT = (
    '{"version": 1, "messages": [\n'
    '  {"name": "hello", "text": "hello"},\n'
    f"  {BAD_ENTRY},\n"
    '  {"name": "ping", "text": "de ad", "mode": "hex"},\n'
    "  42\n"
    f"], {FOREIGN_MEMBER}}}\n"
)
DEEP = "[" * 100_000
