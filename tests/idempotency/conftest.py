"""Fixtures of the idempotency tests: one storage per test, in memory, on SQLite and PostgreSQL.

``backend`` is parametrized, so each contract test runs against every adapter; the SQL schema
is built by the core's migrations, as a service builds it. Every storage reads the test's
`OffsetClock`, so "a day later" is a call, not a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.memory.idempotency import InMemoryIdempotencyStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.idempotency import SqlAlchemyIdempotencyStorage
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.ports.idempotency import IIdempotencyStorage
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.messaging.support import OffsetClock

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TTL = timedelta(hours=24)


@dataclass
class Backend:
    """One place responses are stored, and how to open storages and units of work on it."""

    name: str
    clock: OffsetClock
    engine: AsyncEngine | None = None
    store: InMemoryStore | None = None

    def storage(self) -> IIdempotencyStorage:
        """A storage on this backend - a new one each call, as another replica would open."""
        if self.engine is None:
            return InMemoryIdempotencyStorage(self.store, ttl=TTL, clock=self.clock)
        return SqlAlchemyIdempotencyStorage(self.engine, ttl=TTL, clock=self.clock)

    def uow_factory(self) -> Callable[[], UnitOfWork]:
        if self.engine is None:
            store = self.store
            return lambda: InMemoryUnitOfWork(store)
        sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        return lambda: SqlAlchemyUnitOfWork(sessions)


@pytest.fixture(scope="session")
def idempotency_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this suite's own; each test empties the table first."""
    url = asyncio.run(create_postgres_database(postgres_url, "idempotency"))
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(drop_postgres_database(postgres_url, url))


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``memory``, or the URL of a migrated database with no stored response in it."""
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'idempotency.db'}"
        asyncio.run(upgrade(url))
        return url
    url = str(request.getfixturevalue("idempotency_postgres_url"))
    asyncio.run(_empty(url))
    return url


@pytest.fixture
async def backend(backend_url: str, clock: OffsetClock) -> AsyncIterator[Backend]:
    if backend_url == "memory":
        yield Backend("memory", clock, store=InMemoryStore())
        return
    engine = create_engine(backend_url)
    try:
        yield Backend(engine.dialect.name, clock, engine=engine)
    finally:
        await engine.dispose()


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DELETE FROM cqrs_idempotency_keys")
    finally:
        await engine.dispose()
