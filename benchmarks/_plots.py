"""The benchmark report's figures: latency distributions, throughput next to peers, memory.

Each function draws from the rows of a results file and writes one SVG, or returns ``False``
when the rows hold nothing to draw (a module that did not run), so a partial run still gets a
page. The one thing to notice: figures are built with `matplotlib.figure.Figure` directly -
no pyplot, no global state, no display needed - and saved without a date, so a rerun changes
the file only when the figures change. Used by benchmarks/_page.py (``just bench``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib import rcParams
from matplotlib.figure import Figure

Row = dict[str, Any]

OURS = "#3f51b5"  # the guide's indigo
PEER = "#9e9e9e"

rcParams["svg.hashsalt"] = "cqrs-ddd-benchmarks"  # stable ids inside the SVG
rcParams["svg.fonttype"] = "none"  # text stays text: a few KB instead of glyph outlines


def latency_cdf(rows: Sequence[Row], path: Path) -> bool:
    """Cumulative distribution of every row carrying ``samples_ms`` (and its peer's)."""
    sampled = [row for row in rows if row.get("samples_ms")]
    if not sampled:
        return False
    figure = Figure(figsize=(8, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for row in sampled:
        label = str(row.get("samples_label") or row.get("benchmark", ""))
        _cdf(axes, row["samples_ms"], label=label, color=OURS)
        if row.get("peer_samples_ms"):
            _cdf(axes, row["peer_samples_ms"], label=_short(row, "peer"), color=PEER)
    axes.set_xscale("log")
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("share of requests")
    axes.set_ylim(0, 1.01)
    for share in (0.5, 0.99):
        axes.axhline(share, color="#cccccc", linewidth=0.8, zorder=0)
        axes.annotate(f"p{share * 100:g}", (1.0, share), xycoords=("axes fraction", "data"))
    axes.grid(True, which="both", axis="x", color="#eeeeee")
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title("End-to-end latency, sequential orders, next to the raw floor", loc="left")
    _save(figure, path)
    return True


def throughput_bars(rows: Sequence[Row], path: Path) -> bool:
    """Every rate (unit ``.../s``) with a peer figure: ours and the peer's, side by side."""
    rated = [
        row
        for row in rows
        if str(row.get("unit", "")).endswith("/s")
        and _positive(row.get("value"))
        and _positive(row.get("peer_value"))
    ]
    if not rated:
        return False
    height = 0.38
    figure = Figure(figsize=(9, 1.2 + 0.62 * len(rated)), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(rated)))
    ours = [float(row["value"]) for row in rated]
    peers = [float(row["peer_value"]) for row in rated]
    axes.barh([p - height / 2 for p in positions], ours, height, color=OURS, label="ours")
    axes.barh([p + height / 2 for p in positions], peers, height, color=PEER, label="peer")
    for position, row in zip(positions, rated, strict=True):
        axes.annotate(
            f"{row['value']:,.0f} {row['unit']}  (x{_ratio(row):.2f})",
            (float(row["value"]), position - height / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="x-small",
        )
    axes.set_yticks(positions, [_label(row) for row in rated], fontsize="x-small")
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlim(right=max(ours + peers) * 8)
    axes.set_xlabel("per second, log scale (longer is faster); the label: ours and ours / peer")
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title("Throughput next to the peer of each measurement", loc="left")
    _save(figure, path)
    return True


def memory_growth(rows: Sequence[Row], path: Path) -> bool:
    """Resident memory of each service against the orders placed (rows with ``memory_series``)."""
    series = next((row["memory_series"] for row in rows if row.get("memory_series")), None)
    if not series:
        return False
    services = sorted({key for point in series for key in point if key != "orders"})
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.add_subplot()
    for service, color in zip(services, (OURS, "#e91e63", "#009688"), strict=False):
        points = [(p["orders"], p[service]) for p in series if service in p]
        axes.plot(*zip(*points, strict=True), marker="o", color=color, label=service)
    axes.set_xlabel("orders placed")
    axes.set_ylabel("RSS (MB)")
    axes.set_ylim(bottom=0)
    axes.grid(True, color="#eeeeee")
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title("Resident memory of each service process (0 = after start-up)", loc="left")
    _save(figure, path)
    return True


def _cdf(axes: Any, samples: Sequence[float], *, label: str, color: str) -> None:
    ordered = sorted(samples)
    shares = [(n + 1) / len(ordered) for n in range(len(ordered))]
    axes.step(ordered, shares, where="post", label=label, color=color)


def _ratio(row: Row) -> float:
    """The row's own ratio (a module may take the median of per-turn ratios), else ours / peer."""
    ratio = row.get("ratio")
    return float(ratio) if _positive(ratio) else float(row["value"]) / float(row["peer_value"])


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _label(row: Row) -> str:
    return f"{row.get('module', '')}: {_short(row, 'benchmark', 55)}\nvs {_short(row, 'peer', 55)}"


def _short(row: Row, key: str, width: int = 70) -> str:
    text = str(row.get(key) or "")
    return text if len(text) <= width else text[: width - 3] + "..."


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg", metadata={"Date": None})
