"""Reporting for the benchmarks: the rows' table and the results file.

A benchmark module returns rows - plain dicts such as ``{"benchmark": "...", "value": 12.3,
"unit": "µs/call", "peer": "python-cqrs", "peer_value": 20.1, "ratio": 0.61}`` - and this
module is the only place that knows how to show them and how ``benchmarks/results.json``
is laid out, so every module reads the same. Run them all with ``just bench``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Row = Mapping[str, Any]


def rows_table(rows: Iterable[Row], title: str | None = None) -> Table:
    """A table of rows: what was measured, our figure, the peer's, and the ratio."""
    table = Table(title=title, title_justify="left")
    table.add_column("module", style="dim")
    table.add_column("benchmark")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("peer")
    table.add_column("peer value", justify="right")
    table.add_column("ratio", justify="right")
    for row in rows:
        table.add_row(
            str(row.get("module", "")),
            str(row.get("benchmark", "")),
            format_number(row.get("value")),
            str(row.get("unit", "")),
            str(row.get("peer") or ""),
            format_number(row.get("peer_value")),
            format_number(row.get("ratio")),
        )
    return table


def console() -> Console:
    """A console as wide as the terminal, and wide enough for the rows when piped to a file."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def print_rows(rows: Iterable[Row], title: str | None = None) -> None:
    """Print rows as a table (what a module calls as it goes)."""
    console().print(rows_table(rows, title))


def machine_info() -> dict[str, Any]:
    """What a figure depends on: the machine and the interpreter that produced it."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (``None`` where the system has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def write_results(
    path: Path,
    rows: list[dict[str, Any]],
    modules: dict[str, dict[str, Any]],
    *,
    load: dict[str, list[float] | None] | None = None,
) -> None:
    """Write the results file: when, where, under what load, which modules ran (and how),
    and every row. ``load`` holds the load averages at the run's ``start`` and ``end``."""
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": machine_info(),
        "load_average": load or {"end": load_average()},
        "modules": modules,
        "rows": rows,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # default=str: a module may hand back a Decimal or a Path; the file must still be written.
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def format_number(value: Any) -> str:
    """A figure as the tables show it: thousands separated, about three significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
