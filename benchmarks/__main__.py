"""``python -m benchmarks [names...]``: run the benchmark modules (all, or the ones named).

Exits 0 when every module ran, 1 when any failed (after running the others), 2 on a bad
command line such as a name that matches no module. Run with ``just bench``. A run of every
module ends by rewriting the guide's page (docs/benchmarks.md and its figures); a run of some
modules leaves it alone unless ``--page`` says where to write; ``--page-only`` rewrites it from
the last results file without running anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks._page import DEFAULT_PAGE, write_page
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
    parser.add_argument(
        "--page",
        type=Path,
        default=None,
        help=f"write the results page here (default: {DEFAULT_PAGE.name} in docs/, "
        "when every module of the default package runs)",
    )
    parser.add_argument("--no-page", action="store_true", help="do not write the results page")
    parser.add_argument(
        "--page-only",
        action="store_true",
        help="write the results page from the results file and exit (runs nothing)",
    )
    args = parser.parse_args(argv)

    if args.list:
        print("\n".join(discover(args.package)))
        return 0
    page = args.page
    if page is None and not args.names and args.package == DEFAULT_PACKAGE:
        page = DEFAULT_PAGE  # only a full run may replace the committed page
    if args.page_only:
        for path in write_page(args.output, page or DEFAULT_PAGE):
            print(f"written: {path}")
        return 0
    try:
        return run(
            args.names,
            package=args.package,
            results_path=args.output,
            page=None if args.no_page else page,
        )
    except UnknownBenchmarkError as exc:
        parser.error(str(exc))  # exits with status 2


if __name__ == "__main__":
    sys.exit(main())
