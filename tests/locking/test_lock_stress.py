"""Stress: random transfers among five accounts, in one process and across three processes.

What must hold: no deadlock (every run ends well within its deadline), no negative balance,
the total is conserved, and every balance is exactly what the applied transfers add up to -
which catches a lost update even when the total happens to survive it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy, create_schema
from cqrs_ddd_core.ports.locking import ILockStrategy
from tests.locking.lock_transfer_workload import (
    ACCOUNTS,
    OPENING_BALANCE,
    MemoryBalances,
    SqlBalances,
    Transfer,
    expected_balances,
    random_transfers,
    run_transfers,
)

WORKER = Path(__file__).with_name("lock_transfer_workload.py")
TOTAL = OPENING_BALANCE * len(ACCOUNTS)


def assert_books_balance(balances: dict[str, int], applied: list[Transfer]) -> None:
    assert min(balances.values()) >= 0, balances
    assert sum(balances.values()) == TOTAL
    assert balances == expected_balances(applied)


async def test_200_concurrent_transfers_never_deadlock_nor_lose_money(
    lock_strategy: ILockStrategy,
) -> None:
    balances = MemoryBalances()
    transfers = random_transfers(seed=7, count=200)

    applied = await asyncio.wait_for(
        run_transfers(transfers, lock_strategy, balances, concurrency=200), 60
    )

    assert applied  # money really moved
    assert_books_balance(balances.values, applied)
    assert await lock_strategy.get_active_locks() == []


async def test_without_the_lock_the_same_workload_loses_updates() -> None:
    # The control experiment: the checks above do catch a missing lock.
    balances = MemoryBalances()
    transfers = random_transfers(seed=7, count=200)

    applied = await run_transfers(transfers, None, balances, concurrency=200)

    assert balances.values != expected_balances(applied)


def run_three_worker_processes(url: str, redis_locks: tuple[str, str] | None = None) -> None:
    """Three OS processes run 70 transfers each on one database; then the books are checked.

    The locks are in the same database, or in Redis when ``redis_locks`` = (URL, key prefix).
    """
    engine_balances = _setup(url, redis_locks)
    lock_args = list(redis_locks) if redis_locks is not None else []
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, str(seed), "70", "12", *lock_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2, 3)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            ready = worker.stdout.readline().strip()
            assert ready == "ready", worker.stderr.read() if worker.stderr else ready
        for worker in workers:  # go - all three at once
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        applied: list[Transfer] = []
        for worker in workers:
            out, err = worker.communicate(timeout=90)
            assert worker.returncode == 0, err
            applied += [Transfer(**move) for move in json.loads(out.strip().splitlines()[-1])]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert applied
    assert_books_balance(asyncio.run(engine_balances()), applied)


def _setup(
    url: str, redis_locks: tuple[str, str] | None
) -> Callable[[], Coroutine[Any, Any, dict[str, int]]]:
    """Create the tables with the opening balances; return a reader of the final balances."""

    async def setup() -> None:
        engine = create_engine(url)
        try:
            await create_schema(engine)
            await SqlBalances(engine).reset()
        finally:
            await engine.dispose()

    async def final_balances() -> dict[str, int]:
        engine = create_engine(url)
        locks: ILockStrategy = (
            RedisLockStrategy.from_url(redis_locks[0], prefix=redis_locks[1])
            if redis_locks is not None
            else SqlAlchemyLockStrategy(engine)
        )
        try:
            assert await locks.get_active_locks() == []
            return await SqlBalances(engine).all()
        finally:
            if isinstance(locks, RedisLockStrategy):
                await locks.aclose()
            await engine.dispose()

    asyncio.run(setup())
    return final_balances


@pytest.mark.slow
def test_three_processes_sharing_one_sqlite_file_keep_the_books_straight(tmp_path: Path) -> None:
    run_three_worker_processes(f"sqlite+aiosqlite:///{tmp_path / 'bank.db'}")


@pytest.mark.slow
@pytest.mark.postgres
def test_three_processes_sharing_one_postgres_database_keep_the_books_straight(
    locking_postgres_url: str,
) -> None:
    run_three_worker_processes(locking_postgres_url)


@pytest.mark.slow
@pytest.mark.redis
def test_three_processes_sharing_one_redis_keep_the_books_straight(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # Balances in a SQLite file all three share; the locks only in Redis.
    run_three_worker_processes(
        f"sqlite+aiosqlite:///{tmp_path / 'bank.db'}", (redis_url, f"{redis_prefix}stress:")
    )
