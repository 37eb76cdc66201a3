"""Custom widgets of the workbench UI."""
