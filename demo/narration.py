"""`Narrator`: prints a walkthrough one section per pattern, and keeps score of its checks.

Every section says what happens, shows the evidence, and names the file and the scenario that
demonstrate it. A check that does not hold is printed in red and makes the demo exit 1, so the
walkthrough can never show a story that is not true.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.panel import Panel
from rich.table import Table


@dataclass
class Narrator:
    console: Console = field(default_factory=Console)
    failures: list[str] = field(default_factory=list)
    checks: int = 0

    def section(self, number: int, title: str, *, code: str, scenario: str, story: str) -> None:
        self.console.print()
        body = f"{story}\n\n[dim]code:[/] {code}\n[dim]scenario:[/] {scenario}"
        self.console.print(Panel(body, title=f"[bold]{number}. {title}[/]", expand=True))

    def evidence(self, title: str, rows: list[tuple[str, str]]) -> None:
        table = Table(title=title, title_justify="left", show_header=False, box=None)
        table.add_column(style="cyan")
        table.add_column()
        for key, value in rows:
            table.add_row(key, value)
        self.console.print(table)

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    def check(self, holds: bool, claim: str) -> None:
        self.checks += 1
        if holds:
            self.console.print(f"  [green]✔[/] {claim}")
        else:
            self.failures.append(claim)
            self.console.print(f"  [bold red]✘ {claim}[/]")

    def finish(self) -> int:
        self.console.print()
        if self.failures:
            self.console.print(f"[bold red]{len(self.failures)} of {self.checks} checks failed.[/]")
            return 1
        self.console.print(f"[bold green]All {self.checks} checks held.[/]")
        return 0
