"""`Narrator`: prints a walkthrough one section per pattern, and keeps score of its checks.

Every section says what happens, shows the evidence, and names the file and the scenario that
demonstrate it. A check that does not hold is printed in red and makes the demo exit 1, so the
walkthrough can never show a story that is not true.

``DEMO_BREAK_CHECK=<section>`` (a section's slug, e.g. ``inbox``) is for the demo's own test
only: it makes the first check of that section fail, to prove that a failing check really ends
the demo with exit status 1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.table import Table

BREAK_VARIABLE = "DEMO_BREAK_CHECK"


@dataclass
class Narrator:
    console: Console = field(default_factory=Console)
    failures: list[str] = field(default_factory=list)
    checks: int = 0
    broken_section: str | None = field(default_factory=lambda: os.environ.get(BREAK_VARIABLE))
    _section: str = ""
    _started: float = field(default_factory=time.perf_counter)

    def section(
        self,
        number: int,
        slug: str,
        title: str,
        *,
        code: str | list[str],
        scenario: str | list[str],
        story: str,
    ) -> None:
        """Open a section; ``slug`` names it for `DEMO_BREAK_CHECK`."""
        self._section = slug
        self.console.print()
        body = f"{story}\n\n[dim]code:[/]     {_lines(code)}\n[dim]scenario:[/] {_lines(scenario)}"
        self.console.print(Panel(body, title=f"[bold]{number}. {title}[/]", expand=True))

    def evidence(self, title: str, rows: list[tuple[str, str]]) -> None:
        table = Table(title=title, title_justify="left", show_header=False, box=None)
        table.add_column(style="cyan")
        table.add_column()
        for key, value in rows:
            table.add_row(key, value)
        self.console.print(table)

    def table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    def show(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    @contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        """A spinner while the demo waits for something to happen elsewhere."""
        started = time.perf_counter()
        with self.console.status(f"[dim]{what}...[/]"):
            yield
        self.console.print(f"  [dim]{what}: {(time.perf_counter() - started) * 1000:.0f} ms[/]")

    def check(self, holds: bool, claim: str) -> None:
        self.checks += 1
        if self.broken_section is not None and self.broken_section == self._section:
            self.broken_section = None  # one check only
            holds = False
            claim += f" [dim](broken on purpose: {BREAK_VARIABLE}, a test-only switch)[/]"
        if holds:
            self.console.print(f"  [green]✔[/] {claim}")
        else:
            self.failures.append(claim)
            self.console.print(f"  [bold red]✘ {claim}[/]")

    def fail(self, claim: str) -> None:
        """A step that could not even be checked (it raised or timed out)."""
        self.check(False, claim)

    def finish(self) -> int:
        self.console.print()
        elapsed = time.perf_counter() - self._started
        if self.failures:
            self.console.print(
                f"[bold red]{len(self.failures)} of {self.checks} checks failed[/] "
                f"({elapsed:.1f} s)."
            )
            for claim in self.failures:
                self.console.print(f"  [red]✘ {claim}[/]")
            return 1
        self.console.print(f"[bold green]All {self.checks} checks held[/] ({elapsed:.1f} s).")
        return 0


def _lines(items: str | list[str]) -> str:
    return "\n          ".join([items] if isinstance(items, str) else items)
