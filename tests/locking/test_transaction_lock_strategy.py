"""`TransactionLockStrategy`: a lock held by the unit of work's own transaction.

Real concurrency on a SQLite file and on PostgreSQL: many units of work increment one counter
row by read-then-write, each under the lock - none loses another's increment. On PostgreSQL the
same run without the lock loses increments (the control: the test can fail). Then the edges: a
wait past the timeout is `LockAcquisitionError` and leaves the holder alone, a rollback
releases as a commit does, a nested command re-enters what its root holds, and without a SQL
unit of work the strategy refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.transaction_locks import TransactionLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.scope import unit_of_work_scope
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

metadata = MetaData()
counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)
COUNTER = ResourceIdentifier("Counter", "hits")
WRITERS = 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Resolved here, outside the event loop: the session fixtures run their own.
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'counters.db'}"
    url: str = request.getfixturevalue("locking_postgres_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with counter_at_zero(database_url) as engine:
        yield engine


@pytest.fixture
async def postgres_engine(locking_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    async with counter_at_zero(locking_postgres_url) as engine:
        yield engine


@asynccontextmanager
async def counter_at_zero(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(delete(counters))
            await connection.execute(counters.insert().values(name="hits", value=0))
        yield engine
    finally:
        await engine.dispose()


def unit_of_work(engine: AsyncEngine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(async_sessionmaker(engine, class_=AsyncSession))


async def increment(engine: AsyncEngine, locks: TransactionLockStrategy | None) -> None:
    """Read, yield to the others, write: a lost update unless something serialises it."""
    uow = unit_of_work(engine)
    async with uow:
        with unit_of_work_scope(uow, session_id=new_id()):
            if locks is not None:
                await locks.acquire(COUNTER, timeout=30, ttl=30)
            value = (await uow.session.execute(select(counters.c.value))).scalar_one()
            await asyncio.sleep(0.001)
            await uow.session.execute(update(counters).values(value=value + 1))
        await uow.commit()


async def hits(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(counters.c.value))).scalar_one())


async def test_concurrent_read_then_write_under_the_lock_loses_no_update(
    engine: AsyncEngine,
) -> None:
    locks = TransactionLockStrategy()
    await asyncio.gather(*(increment(engine, locks) for _ in range(WRITERS)))
    assert await hits(engine) == WRITERS


@pytest.mark.postgres
async def test_without_the_lock_postgresql_loses_updates(postgres_engine: AsyncEngine) -> None:
    await asyncio.gather(*(increment(postgres_engine, None) for _ in range(WRITERS)))
    assert await hits(postgres_engine) < WRITERS, "the control: the lock is what protects"


@pytest.mark.postgres
async def test_a_wait_past_the_timeout_fails_and_the_holder_keeps_its_lock(
    postgres_engine: AsyncEngine,
) -> None:
    locks = TransactionLockStrategy()
    holder = unit_of_work(postgres_engine)
    async with holder:
        with unit_of_work_scope(holder, session_id=new_id()):
            await locks.acquire(COUNTER, timeout=5, ttl=30)
        waiter = unit_of_work(postgres_engine)
        with pytest.raises(LockAcquisitionError, match="another transaction holds it"):
            async with waiter:
                with unit_of_work_scope(waiter, session_id=new_id()):
                    await locks.acquire(COUNTER, timeout=0.2, ttl=30)
        await holder.session.execute(update(counters).values(value=1))
        await holder.commit()
    assert await hits(postgres_engine) == 1
    await increment(postgres_engine, locks)  # the commit released it
    assert await hits(postgres_engine) == 2


async def test_a_rollback_releases_the_lock_as_a_commit_does(engine: AsyncEngine) -> None:
    locks = TransactionLockStrategy()
    failing = unit_of_work(engine)
    with pytest.raises(RuntimeError):
        async with failing:
            with unit_of_work_scope(failing, session_id=new_id()):
                await locks.acquire(COUNTER, timeout=5, ttl=30)
                raise RuntimeError("the command failed while holding the lock")
    await asyncio.wait_for(increment(engine, locks), timeout=10)
    assert await hits(engine) == 1


async def test_a_nested_command_re_enters_what_its_root_holds(engine: AsyncEngine) -> None:
    locks = TransactionLockStrategy()
    uow = unit_of_work(engine)
    async with uow:
        with unit_of_work_scope(uow, session_id=new_id()):
            await locks.acquire(COUNTER, timeout=5, ttl=30)
            async with asyncio.timeout(2):  # in this task: the scope belongs to it
                await locks.acquire(COUNTER, timeout=5, ttl=30)
        await uow.commit()


async def test_without_a_sql_unit_of_work_it_refuses_and_says_why() -> None:
    locks = TransactionLockStrategy()
    with pytest.raises(LockAcquisitionError, match="inside a SqlAlchemyUnitOfWork"):
        await locks.acquire(COUNTER, timeout=1, ttl=30)
    uow = InMemoryUnitOfWork()
    async with uow:
        with (
            unit_of_work_scope(uow, session_id=new_id()),
            pytest.raises(LockAcquisitionError, match="InMemoryUnitOfWork"),
        ):
            await locks.acquire(COUNTER, timeout=1, ttl=30)
