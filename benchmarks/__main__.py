"""``python -m benchmarks [names...]``: run the benchmark modules (all, or the ones named).

Exits 0 when every module ran, 1 when any failed (after running the others), 2 on a bad
command line such as a name that matches no module. Run with ``just bench``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks._runner import (
    DEFAULT_PACKAGE,
    DEFAULT_RESULTS,
    UnknownBenchmarkError,
    discover,
    run,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks and write their figures to a results file.",
    )
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="results file (JSON)")
    parser.add_argument(
        "--package", default=DEFAULT_PACKAGE, help="the package holding the benchmark modules"
    )
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    args = parser.parse_args(argv)

    if args.list:
        print("\n".join(discover(args.package)))
        return 0
    try:
        return run(args.names, package=args.package, results_path=args.output)
    except UnknownBenchmarkError as exc:
        parser.error(str(exc))  # exits with status 2


if __name__ == "__main__":
    sys.exit(main())
