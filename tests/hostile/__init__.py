"""Regression tests for issue 10: each test name reads as a promise the workbench keeps."""
