"""Fixtures of the lock contract suite: the same tests run against every `ILockStrategy`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.ports.locking import ILockStrategy
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.locking.lock_stores import empty_lock_table

STRATEGIES = [
    "in-memory",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STRATEGIES)
def lock_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Where each strategy keeps its locks: nowhere (in-memory), a SQLite file, PostgreSQL."""
    return _store_url(request, tmp_path)


@pytest.fixture(params=STRATEGIES[1:])
def sql_lock_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, then PostgreSQL: the stores several processes can share."""
    url = _store_url(request, tmp_path)
    assert url is not None
    return url


def _store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    if request.param == "in-memory":
        return None
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}"
    # Resolved here, outside the event loop: the session fixture runs its own.
    url: str = request.getfixturevalue("locking_postgres_url")
    return url


@pytest.fixture(scope="session")
def locking_postgres_url(postgres_url: str) -> Iterator[str]:
    """A database of the locking suite's own on the run's PostgreSQL, dropped afterwards."""
    url = asyncio.run(create_postgres_database(postgres_url, "locks"))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(postgres_url, url))


@pytest.fixture
async def lock_strategy(lock_store_url: str | None) -> AsyncIterator[ILockStrategy]:
    """Each lock strategy in turn, with no lock held, on the test's own event loop."""
    if lock_store_url is None:
        yield InMemoryLockStrategy()
        return
    await empty_lock_table(lock_store_url)
    engine = create_engine(lock_store_url)
    try:
        yield SqlAlchemyLockStrategy(engine)
    finally:
        await engine.dispose()
