"""Every example in examples/ runs, and does what its docstring says it shows.

Each runs on SQLite files of a temporary directory and the in-process broker, as a reader runs
it; the locked transfer runs on PostgreSQL too, where transfers on other wallets may run side
by side (the example prints how many did: it depends on the machine's timing). The last test runs
each one the reader's way: ``python -m examples.<name>``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cqrs_ddd_core.ports.deadlines import DeadlineStatus
from examples.deadline import app as deadline
from examples.locked_transfer import app as locked_transfer
from examples.nested_commands import app as nested_commands
from examples.outbox_inbox import app as outbox_inbox
from tests.isolation import fresh_postgres_database

ROOT = Path(__file__).parents[2]


async def test_a_duplicate_delivery_is_handled_by_two_replicas_at_once_and_counts_once(
    tmp_path: Path,
) -> None:
    lines: list[str] = []

    outcome = await outbox_inbox.main(tmp_path, say=lines.append)

    assert outcome.published_rows == 1, "one ticket, one outbox row, relayed"
    assert outcome.deliveries == 2, "both copies were acknowledged"
    assert (outcome.processed, outcome.duplicates) == (1, 1)
    assert outcome.points == 40, "the duplicate had no effect"
    worked = [line for line in lines if "points for ada" in line]
    assert len(worked) == 2, "both replicas did the work at once; one commit survived"


async def test_concurrent_locked_transfers_conserve_the_total_on_sqlite(tmp_path: Path) -> None:
    outcome = await locked_transfer.main(
        f"sqlite+aiosqlite:///{tmp_path / 'wallets.db'}",
        locks_url=f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}",
        say=lambda line: None,
    )

    assert sum(outcome.balances.values()) == 400
    assert outcome.done + outcome.refused == locked_transfer.TRANSFERS
    assert outcome.done > outcome.refused
    assert outcome.clashes == 0, "two transfers held one wallet at the same time"


@pytest.mark.postgres
async def test_concurrent_locked_transfers_conserve_the_total_on_postgres(
    postgres_url: str,
) -> None:
    async with fresh_postgres_database(postgres_url, "example") as url:
        outcome = await locked_transfer.main(url, say=lambda line: None)

    assert sum(outcome.balances.values()) == 400
    assert outcome.done + outcome.refused == locked_transfer.TRANSFERS
    assert outcome.clashes == 0, "two transfers held one wallet at the same time"


async def test_a_failing_nested_command_rolls_back_its_whole_root_command(tmp_path: Path) -> None:
    outcome = await nested_commands.main(tmp_path, say=lambda line: None)

    assert outcome.teams == {"reds": 3}, "the blues were never stored"
    assert outcome.players == 3, "dia and eve left with the blues"
    assert outcome.commits == 1, "the reds and their players: one commit"
    assert "ben already plays for reds" in outcome.refusal


async def test_an_unpaid_hold_is_released_once_by_two_schedulers_and_a_paid_one_is_kept(
    tmp_path: Path,
) -> None:
    outcome = await deadline.main(tmp_path, say=lambda line: None, hold_for=0.2)

    assert outcome.seats == {"s-1": "sold", "s-2": "free"}
    assert outcome.fired == 1, "one deadline fired, by one of the two schedulers"
    assert outcome.deadlines[DeadlineStatus.FIRED] == 1
    assert outcome.deadlines[DeadlineStatus.CANCELLED] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "last_words"),
    [
        ("outbox_inbox", "ada has 40 points"),
        ("locked_transfer", "400 in all"),
        ("nested_commands", "stored: teams {'reds': 3}"),
        ("deadline", "seats {'s-1': 'sold', 's-2': 'free'}"),
    ],
)
def test_each_example_runs_as_a_reader_runs_it(name: str, last_words: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", f"examples.{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert last_words in run.stdout.strip().splitlines()[-1]
