"""The benchmark runner: find every benchmark module, run its ``main()``, keep going on failure.

The one thing to notice: a module that raises (or returns something that is not a list of
rows) is reported as failed, the others still run, and only at the end does the runner exit
non-zero - so one broken benchmark never hides the figures of the rest.
The convention is the whole contract: ``benchmarks/<name>.py``, not starting with ``_``,
with ``def main() -> list[dict]``. Run with ``just bench`` or ``python -m benchmarks``; given
a ``page``, the run ends by writing the guide's results page from the results (_page.py).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks._page import write_page
from benchmarks._report import console as default_console
from benchmarks._report import load_average, rows_table, write_results

DEFAULT_PACKAGE = "benchmarks"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results.json"


class UnknownBenchmarkError(LookupError):
    """A name given on the command line matches no benchmark module."""

    def __init__(self, names: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(
            f"No benchmark module named {', '.join(names)}; "
            f"available: {', '.join(available) or '(none)'}"
        )


@dataclass
class Outcome:
    """What one module's run produced."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def summary(self) -> dict[str, Any]:
        status = "failed" if self.failed else "ok"
        return {"status": status, "seconds": round(self.seconds, 3), "error": self.error}


def discover(package: str = DEFAULT_PACKAGE) -> list[str]:
    """The benchmark module names of ``package``, sorted (private ``_`` modules excluded)."""
    paths = getattr(importlib.import_module(package), "__path__", None)
    if paths is None:
        raise TypeError(f"{package!r} is a module, not a package of benchmark modules")
    return sorted(
        info.name
        for info in pkgutil.iter_modules(paths)
        if not info.ispkg and not info.name.startswith("_")
    )


def select(available: Sequence[str], names: Sequence[str]) -> list[str]:
    """The modules to run: all of them, or the ones named (in the order given)."""
    if not names:
        return list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UnknownBenchmarkError(unknown, available)
    return list(dict.fromkeys(names))


def run_module(package: str, name: str) -> Outcome:
    """Import ``package.name`` and call its ``main()``; any failure is caught and described."""
    outcome = Outcome(name)
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"{package}.{name}")
        entry = getattr(module, "main", None)
        if not callable(entry):
            raise TypeError(f"{package}.{name} has no main(); define `def main() -> list[dict]`")
        outcome.rows = _checked_rows(name, entry())
    except (Exception, SystemExit):
        # A module calling sys.exit() must not end the run before the others have theirs.
        outcome.error = traceback.format_exc()
    outcome.seconds = time.perf_counter() - started
    return outcome


def run(
    names: Sequence[str] = (),
    *,
    package: str = DEFAULT_PACKAGE,
    results_path: Path = DEFAULT_RESULTS,
    console: Console | None = None,
    page: Path | None = None,
) -> int:
    """Run the selected modules, print every row, write the results (and ``page`` from them,
    if given); 1 if any module failed."""
    console = console or default_console()
    selected = select(discover(package), names)
    load_at_start = load_average()
    outcomes: list[Outcome] = []
    for name in selected:
        console.rule(f"[bold]{name}")
        outcome = run_module(package, name)
        outcomes.append(outcome)
        if outcome.failed:
            console.print(f"[red]{name} failed after {outcome.seconds:.1f} s:[/red]")
            console.print(outcome.error, markup=False, highlight=False)
        else:
            console.print(f"{name}: {len(outcome.rows)} rows in {outcome.seconds:.1f} s")

    rows = [row for outcome in outcomes for row in outcome.rows]
    console.rule("[bold]results")
    console.print(rows_table(rows))
    write_results(
        results_path,
        rows,
        {o.name: o.summary() for o in outcomes},
        load={"start": load_at_start, "end": load_average()},
    )
    console.print(f"written to {results_path}")
    if page is not None:
        written = write_page(results_path, page)
        console.print(f"page written: {', '.join(str(path) for path in written)}")

    failed = [o.name for o in outcomes if o.failed]
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/red]")
        return 1
    return 0


def _checked_rows(name: str, returned: Any) -> list[dict[str, Any]]:
    """The rows, each tagged with its module; anything but a list of dicts is an error."""
    if not isinstance(returned, list) or not all(isinstance(row, dict) for row in returned):
        raise TypeError(
            f"{name}.main() returned {type(returned).__name__}; it must return a list of "
            f'dicts such as {{"benchmark": "...", "value": 1.0, "unit": "ops/s"}}'
        )
    return [{"module": name, **row} for row in returned]
