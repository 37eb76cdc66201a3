"""workbench: a terminal socket workbench for building, debugging and teaching TCP."""

__version__ = "0.1.0"
