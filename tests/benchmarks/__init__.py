"""Benchmarks run on purpose (``python tests/benchmarks/run.py``), never by pytest."""
