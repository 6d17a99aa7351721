"""Fixtures of the persistence tests: one migrated database per test, SQLite and PostgreSQL.

``database_url`` is parametrized: each test using it runs on a SQLite file of its own and on
PostgreSQL (marked ``postgres``; one database for this suite, migrated once and emptied
before each test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.persistence.databases import empty_every_table, sqlite_url
from tests.warehouse.sql import WAREHOUSE_VERSIONS

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def persistence_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this suite's own, migrated once for the session."""
    url = asyncio.run(create_postgres_database(postgres_url))
    try:
        asyncio.run(upgrade(url, WAREHOUSE_VERSIONS))
        yield url
    finally:
        asyncio.run(drop_postgres_database(postgres_url, url))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        asyncio.run(upgrade(url, WAREHOUSE_VERSIONS))
        return url
    url = str(request.getfixturevalue("persistence_postgres_url"))
    asyncio.run(empty_every_table(url))
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
