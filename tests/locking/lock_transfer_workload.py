"""The transfer workload of the lock stress tests, in-process or as a worker process.

Random transfers among five accounts, each one a read-modify-write of two balances inside a
`CriticalSection` over both accounts, with ``await``s between the reads and the writes. Only the
lock keeps two transfers of one account apart: the balances are read and written in separate
transactions, so the database's own locking cannot hide a broken lock.

As a script it is one worker process of the multi-process tests:
``python lock_transfer_workload.py URL SEED COUNT CONCURRENCY [LOCK_URL PREFIX]`` prints
``ready``, waits for a line on stdin (so every worker starts together), runs, and prints the
applied transfers as JSON. The balances live in the database at URL; the locks too, unless a
Redis ``LOCK_URL`` (and a key ``PREFIX``) puts them there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

ACCOUNTS = [f"acc-{i}" for i in range(5)]
OPENING_BALANCE = 1_000
LOCK_WAIT = 60.0  # bounded, but far above what a correct run ever waits


@dataclass(frozen=True)
class Transfer:
    source: str
    target: str
    amount: int


def random_transfers(seed: int, count: int) -> list[Transfer]:
    """``count`` transfers between two different accounts, in random directions."""
    rng = random.Random(seed)
    transfers = []
    for _ in range(count):
        source, target = rng.sample(ACCOUNTS, 2)
        transfers.append(Transfer(source, target, rng.randint(1, 400)))
    return transfers


def expected_balances(applied: Iterable[Transfer]) -> dict[str, int]:
    """What the balances must be after ``applied``, in whatever order they ran."""
    balances = dict.fromkeys(ACCOUNTS, OPENING_BALANCE)
    for transfer in applied:
        balances[transfer.source] -= transfer.amount
        balances[transfer.target] += transfer.amount
    return balances


class Balances(Protocol):
    async def read(self, account: str) -> int: ...

    async def write(self, account: str, balance: int) -> None: ...


class MemoryBalances:
    """Balances in a dict; every access yields to the event loop, like real I/O would."""

    def __init__(self) -> None:
        self.values = dict.fromkeys(ACCOUNTS, OPENING_BALANCE)

    async def read(self, account: str) -> int:
        await asyncio.sleep(0)
        return self.values[account]

    async def write(self, account: str, balance: int) -> None:
        await asyncio.sleep(0)
        self.values[account] = balance


balances_metadata = MetaData()
balances_table = Table(
    "lock_test_balances",
    balances_metadata,
    Column("account", String(20), primary_key=True),
    Column("balance", Integer, nullable=False),
)


class SqlBalances:
    """Balances in a table; each read and each write is a transaction of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def reset(self) -> None:
        async with self._engine.begin() as connection:
            await connection.run_sync(balances_metadata.drop_all)
            await connection.run_sync(balances_metadata.create_all)
            await connection.execute(
                balances_table.insert(),
                [{"account": a, "balance": OPENING_BALANCE} for a in ACCOUNTS],
            )

    async def read(self, account: str) -> int:
        async with self._engine.begin() as connection:
            balance = await connection.scalar(
                select(balances_table.c.balance).where(balances_table.c.account == account)
            )
        assert balance is not None, f"no account {account!r}"
        return int(balance)

    async def write(self, account: str, balance: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(balances_table)
                .where(balances_table.c.account == account)
                .values(balance=balance)
            )

    async def all(self) -> dict[str, int]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(balances_table))).all()
        return {row.account: row.balance for row in rows}


async def transfer(
    move: Transfer, locks: ILockStrategy | None, balances: Balances, rng: random.Random
) -> bool:
    """Move the money if the source can afford it; ``locks=None`` shows what goes wrong."""
    accounts = [
        ResourceIdentifier("Account", move.source),
        ResourceIdentifier("Account", move.target),
    ]
    section = (
        CriticalSection(accounts, locks, timeout=LOCK_WAIT, ttl=LOCK_WAIT)
        if locks is not None
        else contextlib.nullcontext()
    )
    async with section:
        source = await balances.read(move.source)
        if source < move.amount:
            return False  # insufficient funds: nothing moves
        target = await balances.read(move.target)
        await asyncio.sleep(rng.random() * 0.002)  # the window a lost update needs
        await balances.write(move.source, source - move.amount)
        await balances.write(move.target, target + move.amount)
        return True


async def run_transfers(
    transfers: list[Transfer],
    locks: ILockStrategy | None,
    balances: Balances,
    *,
    concurrency: int,
    seed: int = 0,
) -> list[Transfer]:
    """Run the transfers, ``concurrency`` at a time; return those that moved money."""
    rng = random.Random(seed)
    gate = asyncio.Semaphore(concurrency)

    async def one(move: Transfer) -> bool:
        async with gate:
            return await transfer(move, locks, balances, rng)

    moved = await asyncio.gather(*(one(move) for move in transfers))
    return [move for move, ok in zip(transfers, moved, strict=True) if ok]


async def _work(
    url: str, seed: int, count: int, concurrency: int, redis_locks: tuple[str, str] | None
) -> list[Transfer]:
    engine = create_engine(url)
    locks: ILockStrategy = (
        RedisLockStrategy.from_url(redis_locks[0], prefix=redis_locks[1])
        if redis_locks is not None
        else SqlAlchemyLockStrategy(engine)
    )
    try:
        assert await locks.health_check()  # connect before saying ready
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # every worker starts on the same signal
        transfers = random_transfers(seed, count)
        return await run_transfers(
            transfers, locks, SqlBalances(engine), concurrency=concurrency, seed=seed
        )
    finally:
        if isinstance(locks, RedisLockStrategy):
            await locks.aclose()
        await engine.dispose()


def main(argv: list[str]) -> None:
    url, seed, count, concurrency = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    redis_locks = (argv[4], argv[5]) if len(argv) > 4 else None
    applied = asyncio.run(_work(url, seed, count, concurrency, redis_locks))
    print(json.dumps([asdict(move) for move in applied]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
