"""Fixtures of the deadline tests: one storage per test, in memory, on SQLite and PostgreSQL.

``backend`` is parametrized, so each contract test runs against every adapter; SQL schemas
are built by the deadlines migration itself (after the core's), as a service builds them.
Every storage reads the test's `OffsetClock`: "thirty seconds later" is a call, not a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.adapters.sqlalchemy.deadlines import (
    DEADLINES_VERSIONS,
    SqlAlchemyDeadlineStorage,
)
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.ports.deadlines import IDeadlineStorage
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.messaging.support import OffsetClock

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    """One place deadlines are stored, and how to open storages and units of work on it."""

    name: str
    clock: OffsetClock
    engine: AsyncEngine | None = None
    memory: InMemoryDeadlineStorage | None = None
    store: InMemoryStore | None = None

    def storage(self) -> IDeadlineStorage:
        """A storage on this backend - a new one each call, as another process would open."""
        if self.engine is None:
            assert self.memory is not None
            return self.memory  # one process: every "replica" shares the dictionary
        return SqlAlchemyDeadlineStorage(self.engine, clock=self.clock)

    def uow_factory(self) -> Callable[[], UnitOfWork]:
        if self.engine is None:
            store = self.store
            return lambda: InMemoryUnitOfWork(store)
        sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        return lambda: SqlAlchemyUnitOfWork(sessions)


@pytest.fixture(scope="session")
def deadlines_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this suite's own; each test empties the table first."""
    url = asyncio.run(create_postgres_database(postgres_url, "deadlines"))
    try:
        asyncio.run(upgrade(url, DEADLINES_VERSIONS))
        yield url
    finally:
        asyncio.run(drop_postgres_database(postgres_url, url))


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``memory``, or the URL of a migrated database with no deadline in it."""
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'deadlines.db'}"
        asyncio.run(upgrade(url, DEADLINES_VERSIONS))
        return url
    url = str(request.getfixturevalue("deadlines_postgres_url"))
    asyncio.run(_empty(url))
    return url


@pytest.fixture
async def backend(backend_url: str, clock: OffsetClock) -> AsyncIterator[Backend]:
    if backend_url == "memory":
        yield Backend("memory", clock, memory=InMemoryDeadlineStorage(clock), store=InMemoryStore())
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
            await connection.exec_driver_sql("DELETE FROM cqrs_deadlines")
    finally:
        await engine.dispose()
