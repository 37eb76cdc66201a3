"""Run the workbench benchmarks and print one table each, then a summary against the targets.

    python tests/benchmarks/run.py [--quick] [--only NAME]

Numbers only: nothing here asserts a timing, because a shared 2-core machine makes any
threshold flaky. The summary says which targets were met on this run and this machine.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make `tests.benchmarks` and `workbench` importable
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.common import Figure, machine_line, table  # noqa: E402

BENCHMARKS = ("throughput", "filesend", "events", "logscale", "peers", "startup", "bigcomposer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run just this one")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    print(machine_line())
    print(f"mode: {'quick' if args.quick else 'full'} · benchmarks: {', '.join(chosen)}")
    figures: list[Figure] = []
    failed: list[str] = []
    started = time.monotonic()
    for name in chosen:
        began = time.monotonic()
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            figures.extend(module.bench(args.quick))
        except Exception:  # one broken benchmark must not hide the others' numbers
            failed.append(name)
            print(f"\n== {name}: FAILED\n{traceback.format_exc()}", file=sys.stderr)
            figures.append(Figure(name, "benchmark ran", None, "", "runs", False))
        print(f"({name}: {time.monotonic() - began:.1f} s)")
    rows = [[f.benchmark, f.figure, f.value, f.unit, f.target, f.met] for f in figures]
    table("summary", ["benchmark", "figure", "value", "unit", "target", "met?"], rows)
    print(f"\n{machine_line()}")
    print(f"total {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
