"""Lock strategies: uncontended acquire+release, and the contended transfer workload.

For each strategy (in-memory, SQLAlchemy on a SQLite file, SQLAlchemy on PostgreSQL, Redis):

* ``acquire+release`` - one task locking and unlocking one resource in a loop (ops/s). Peers:
  ``asyncio.Lock`` for the in-memory strategy; for the SQL ones, a minimal write transaction
  (one ``UPDATE`` of one row) on the same database - a lock costs two short transactions.
* ``a locked one-row write`` - the same one-row ``UPDATE`` transaction, under a lock: with the
  lock table (a transaction to take the lock, the write's, one to release it) and with the
  transaction's own lock (`TransactionLockStrategy`: one ``pg_advisory_xact_lock`` statement on
  PostgreSQL, nothing on SQLite, whose ``BEGIN IMMEDIATE`` serialises writers already). Peer:
  the bare write.
* ``transfers`` - 200 concurrent transfers among 5 accounts in random directions, each holding
  both accounts across an ``await`` (transfers/s). Peer for the in-memory strategy: one
  ``asyncio.Lock`` per account taken in sorted order, the simplest correct in-process design.

Redis is measured against the raw idiom on the same server: ``SET key token NX PX ttl`` to take
a lock, a compare-and-delete script to release it, and (for transfers) a jittered retry loop
while the key exists - what a lock costs with nothing around it (ratio = ours / raw). The
"3 clients" rows split the transfers among three strategies on three connections, as three
processes would: they cannot queue in one process, so they poll Redis against each other; the
requests-per-transfer rows (scripts and ``SET``s Redis received, from ``INFO commandstats``) show
what polling costs: 4 is a transfer that never polled (two locks taken, two released).

PostgreSQL rows are measured on a throw-away database when ``127.0.0.1:5432`` answers
(``BENCH_POSTGRES_URL`` overrides the server), Redis rows under a throw-away key prefix when
``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) answers; each is left out otherwise.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy import Column, Integer, MetaData, Table, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy, create_schema
from cqrs_ddd_core.adapters.sqlalchemy.transaction_locks import TransactionLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.cqrs.scope import unit_of_work_scope
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
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


COUNTERS = Table(
    "bench_counter",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)


async def one_counter(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(COUNTERS.metadata.drop_all)
        await connection.run_sync(COUNTERS.metadata.create_all)
        await connection.execute(COUNTERS.insert().values(id=1, value=0))


async def one_row_update(engine: AsyncEngine, seconds: float) -> float:
    await one_counter(engine)

    async def once() -> None:
        async with engine.begin() as connection:
            await connection.execute(update(COUNTERS).values(value=COUNTERS.c.value + 1))

    return await ops_per_second(once, seconds)


async def locked_update(engine: AsyncEngine, locks: ILockStrategy, seconds: float) -> float:
    """The one-row write in a unit of work, under a lock released after its commit."""
    await one_counter(engine)
    sessions = async_sessionmaker(engine, class_=AsyncSession)

    async def once() -> None:
        uow = SqlAlchemyUnitOfWork(sessions)
        async with uow:
            with unit_of_work_scope(uow, session_id=new_id()):
                token = await locks.acquire(RESOURCE, timeout=5.0, ttl=30.0)
                try:
                    await uow.session.execute(update(COUNTERS).values(value=COUNTERS.c.value + 1))
                    await uow.commit()
                finally:
                    await locks.release(RESOURCE, token)

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
    # 200 transfers in memory take a few milliseconds: one pause of a shared machine would
    # decide a single run, so each side runs five times, alternating, and gives its median.
    ours_runs: list[float] = []
    peer_runs: list[float] = []
    for _ in range(5):
        ours_runs.append(await transfers_per_second(critical_sections(InMemoryLockStrategy())))
        peer_runs.append(await transfers_per_second(sorted_asyncio_locks()))
    ours, peer = statistics.median(ours_runs), statistics.median(peer_runs)
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
        for label, strategy in (
            ("lock table", locks),
            ("transaction lock", TransactionLockStrategy()),
        ):
            ours = await locked_update(engine, strategy, seconds=3.0)
            rows.append(
                row(
                    f"{name} a locked one-row write, {label}",
                    ours,
                    "writes/s",
                    "the write alone (one-row UPDATE transaction)",
                    peer,
                )
            )
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


# --- Redis: ours next to the raw SET NX PX idiom ---------------------------------------------

_RAW_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RawRedisLocks:
    """The bare idiom: ``SET NX PX`` to take, compare-and-delete to release, jittered retries."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._delete = client.register_script(_RAW_DELETE)

    async def acquire(self, name: str, ttl_ms: int = 30_000) -> str:
        token = uuid.uuid4().hex
        pause = 0.002
        while not await self._redis.set(self._prefix + name, token, nx=True, px=ttl_ms):
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.05)
        return token

    async def release(self, name: str, token: str) -> None:
        await self._delete(keys=[self._prefix + name], args=[token])

    def section(self) -> Callable[[list[str]], Any]:
        @asynccontextmanager
        async def section(accounts: list[str]) -> AsyncIterator[None]:
            taken: list[tuple[str, str]] = []
            try:
                for account in sorted(accounts):
                    taken.append((account, await self.acquire(account)))
                yield
            finally:
                for account, token in reversed(taken):
                    await self.release(account, token)

        return section


async def requests_received(client: Redis) -> int:
    """Requests Redis received from the lock clients: scripts and ``SET``s (commands run
    *inside* a script are counted apart by Redis, and are not round trips)."""
    stats = await client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "set"))


async def per_transfer_requests(
    client: Redis, section: Callable[[list[str]], Any]
) -> tuple[float, float]:
    """Transfers per second, and the requests to Redis each transfer cost."""
    before = await requests_received(client)
    throughput = await transfers_per_second(section)
    return throughput, (await requests_received(client) - before) / TRANSFERS


def round_robin(sections: list[Callable[[list[str]], Any]]) -> Callable[[list[str]], Any]:
    turn = iter(range(10**9))

    def section(accounts: list[str]) -> Any:
        return sections[next(turn) % len(sections)](accounts)

    return section


async def measure_redis() -> list[dict[str, Any]]:
    prefix = f"cqrs-bench-{uuid.uuid4().hex[:10]}:"
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        print(f"Redis not reachable at {REDIS_URL} ({exc}); skipping its rows")
        await client.aclose()
        return []
    strategies = [RedisLockStrategy.from_url(REDIS_URL, prefix=prefix + "ours:") for _ in range(3)]
    # The same pool as ours (50 connections, blocking when all are busy): 200 raw pollers
    # would otherwise exhaust redis-py's default pool of 100, which raises.
    raw_clients: list[Redis] = [
        Redis(connection_pool=BlockingConnectionPool.from_url(REDIS_URL, max_connections=50))
        for _ in range(3)
    ]
    raw = [RawRedisLocks(c, prefix + "raw:") for c in raw_clients]
    try:
        ours = await acquire_release(strategies[0], seconds=3.0)

        async def raw_once() -> None:
            await raw[0].release("bench", await raw[0].acquire("bench"))

        peer = await ops_per_second(raw_once, seconds=3.0)
        rows = [row("Redis acquire+release", ours, "ops/s", "raw SET NX PX + scripted DEL", peer)]
        ours, ours_cmds = await per_transfer_requests(client, critical_sections(strategies[0]))
        peer, raw_cmds = await per_transfer_requests(client, raw[0].section())
        rows.append(
            row(
                "Redis 200 contended transfers", ours, "transfers/s", "raw SET NX PX, polling", peer
            )
        )
        rows.append(
            row(
                "Redis requests per contended transfer",
                ours_cmds,
                "requests",
                "raw SET NX PX, polling",
                raw_cmds,
            )
        )
        three = round_robin([critical_sections(s) for s in strategies])
        ours, ours_cmds = await per_transfer_requests(client, three)
        peer, raw_cmds = await per_transfer_requests(
            client, round_robin([r.section() for r in raw])
        )
        rows.append(
            row(
                "Redis 200 contended transfers, 3 clients",
                ours,
                "transfers/s",
                "raw SET NX PX, polling, 3 clients",
                peer,
            )
        )
        rows.append(
            row(
                "Redis requests per contended transfer, 3 clients",
                ours_cmds,
                "requests",
                "raw SET NX PX, polling, 3 clients",
                raw_cmds,
            )
        )
        return rows
    finally:
        for strategy in strategies:
            await strategy.aclose()
        for raw_client in raw_clients:
            await raw_client.aclose()
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def measure_all() -> list[dict[str, Any]]:
    rows = await measure_in_memory()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'locks.db'}"
        rows += await measure_sql("SQLite", url)
    async with throwaway_postgres() as postgres:
        if postgres is not None:
            rows += await measure_sql("PostgreSQL", postgres)
    rows += await measure_redis()
    return rows


def main() -> list[dict[str, Any]]:
    rows = asyncio.run(measure_all())
    print_rows(rows, title="locking")
    return rows


if __name__ == "__main__":
    main()
