"""Lock strategies: uncontended acquire+release, and the contended transfer workload.

For each strategy (in-memory, SQLAlchemy on a SQLite file, SQLAlchemy on PostgreSQL):

* ``acquire+release`` - one task locking and unlocking one resource in a loop (ops/s). Peers:
  ``asyncio.Lock`` for the in-memory strategy; for the SQL ones, a minimal write transaction
  (one ``UPDATE`` of one row) on the same database - a lock costs two short transactions.
* ``transfers`` - 200 concurrent transfers among 5 accounts in random directions, each holding
  both accounts across an ``await`` (transfers/s). Peer for the in-memory strategy: one
  ``asyncio.Lock`` per account taken in sorted order, the simplest correct in-process design.

PostgreSQL rows are measured on a throw-away database when ``127.0.0.1:5432`` answers
(``BENCH_POSTGRES_URL`` overrides the server), and left out otherwise.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Column, Integer, MetaData, Table, update
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy, create_schema
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ACCOUNTS = [f"acc-{i}" for i in range(5)]
TRANSFERS = 200
RESOURCE = ResourceIdentifier("Account", "bench")


async def ops_per_second(operation: Callable[[], Awaitable[None]], seconds: float) -> float:
    """Run ``operation`` back to back for about ``seconds``; return calls per second."""
    for _ in range(10):  # warm up connections and caches
        await operation()
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await operation()
        count += 1
    return count / elapsed


async def acquire_release(locks: ILockStrategy, seconds: float) -> float:
    async def once() -> None:
        token = await locks.acquire(RESOURCE, timeout=5.0, ttl=30.0)
        await locks.release(RESOURCE, token)

    return await ops_per_second(once, seconds)


async def asyncio_lock_acquire_release(seconds: float) -> float:
    lock = asyncio.Lock()

    async def once() -> None:
        await lock.acquire()
        lock.release()

    return await ops_per_second(once, seconds)


async def one_row_update(engine: AsyncEngine, seconds: float) -> float:
    counters = Table(
        "bench_counter",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("value", Integer, nullable=False),
    )
    async with engine.begin() as connection:
        await connection.run_sync(counters.metadata.drop_all)
        await connection.run_sync(counters.metadata.create_all)
        await connection.execute(counters.insert().values(id=1, value=0))

    async def once() -> None:
        async with engine.begin() as connection:
            await connection.execute(update(counters).values(value=counters.c.value + 1))

    return await ops_per_second(once, seconds)


async def transfers_per_second(section: Callable[[list[str]], Any], seed: int = 7) -> float:
    """200 concurrent transfers; ``section(accounts)`` is the async context that guards one."""
    rng = random.Random(seed)
    balances = dict.fromkeys(ACCOUNTS, 1_000)
    moves: list[tuple[str, str, int]] = []
    for _ in range(TRANSFERS):
        source, target = rng.sample(ACCOUNTS, 2)
        moves.append((source, target, rng.randint(1, 400)))

    async def transfer(source: str, target: str, amount: int) -> None:
        async with section([source, target]):
            if balances[source] < amount:
                return
            source_balance, target_balance = balances[source], balances[target]
            await asyncio.sleep(0)  # the await a lost update needs
            balances[source] = source_balance - amount
            balances[target] = target_balance + amount

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(transfer(*move) for move in moves)), 120)
    elapsed = time.perf_counter() - started
    if sum(balances.values()) != 1_000 * len(ACCOUNTS) or min(balances.values()) < 0:
        raise AssertionError(f"the books do not balance: {balances}")
    return TRANSFERS / elapsed


def critical_sections(locks: ILockStrategy) -> Callable[[list[str]], Any]:
    def section(accounts: list[str]) -> CriticalSection:
        resources = [ResourceIdentifier("Account", a) for a in accounts]
        return CriticalSection(resources, locks, timeout=60.0, ttl=60.0)

    return section


def sorted_asyncio_locks() -> Callable[[list[str]], Any]:
    locks = {account: asyncio.Lock() for account in ACCOUNTS}

    @asynccontextmanager
    async def section(accounts: list[str]) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for account in sorted(accounts):
                await stack.enter_async_context(locks[account])
            yield

    return section


def row(
    benchmark: str,
    value: float,
    unit: str,
    peer: str | None = None,
    peer_value: float | None = None,
) -> dict[str, Any]:
    ratio = round(value / peer_value, 3) if peer_value else None
    return {
        "benchmark": benchmark,
        "value": round(value, 1),
        "unit": unit,
        "peer": peer,
        "peer_value": round(peer_value, 1) if peer_value else None,
        "ratio": ratio,
    }


async def measure_in_memory() -> list[dict[str, Any]]:
    ours = await acquire_release(InMemoryLockStrategy(), seconds=2.0)
    peer = await asyncio_lock_acquire_release(seconds=2.0)
    rows = [row("in-memory acquire+release", ours, "ops/s", "asyncio.Lock", peer)]
    ours = await transfers_per_second(critical_sections(InMemoryLockStrategy()))
    peer = await transfers_per_second(sorted_asyncio_locks())
    rows.append(
        row(
            "in-memory 200 contended transfers",
            ours,
            "transfers/s",
            "asyncio.Lock per account, sorted",
            peer,
        )
    )
    return rows


async def measure_sql(name: str, url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        await create_schema(engine)
        locks = SqlAlchemyLockStrategy(engine)
        ours = await acquire_release(locks, seconds=3.0)
        peer = await one_row_update(engine, seconds=3.0)
        rows = [row(f"{name} acquire+release", ours, "ops/s", "one-row UPDATE transaction", peer)]
        throughput = await transfers_per_second(critical_sections(locks))
        rows.append(row(f"{name} 200 contended transfers", throughput, "transfers/s"))
        return rows
    finally:
        await engine.dispose()


@asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str | None]:
    """A fresh database on the local server, dropped afterwards; ``None`` if none answers."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"cqrs_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({exc}); skipping its rows")
        yield None
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(POSTGRES_ADMIN_URL)
        yield urlunsplit(("postgresql+asyncpg", parts.netloc, "/" + name, "", ""))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure_all() -> list[dict[str, Any]]:
    rows = await measure_in_memory()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'locks.db'}"
        rows += await measure_sql("SQLite", url)
    async with throwaway_postgres() as postgres:
        if postgres is not None:
            rows += await measure_sql("PostgreSQL", postgres)
    return rows


def main() -> list[dict[str, Any]]:
    rows = asyncio.run(measure_all())
    print_rows(rows, title="locking")
    return rows


if __name__ == "__main__":
    main()
