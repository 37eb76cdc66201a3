"""The command line: ``workbench`` launches the UI, ``workbench NAME`` runs a subcommand.

One module per command (``launch`` for the UI; ``replay``, ``mock`` and ``show``), with what
they share in ``arguments`` (argparse types) and ``common`` (exit statuses, errors, signals).
Importing this package is cheap: it loads neither trio nor Textual.
"""

from workbench.cli.launch import main

__all__ = ["main"]
