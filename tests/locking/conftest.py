"""Fixtures of the lock contract suite: the same tests run against every `ILockStrategy`.

In-memory, a SQLite file, PostgreSQL and Redis. Redis locks live under the run's key prefix
(``redis_prefix``) plus one of the test's own, so no test sees another's locks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.ports.locking import ILockStrategy
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.locking.lock_stores import empty_lock_table

STRATEGIES = [
    "in-memory",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("redis", marks=pytest.mark.redis),
]
SQL_STRATEGIES = STRATEGIES[1:3]


@pytest.fixture(params=STRATEGIES)
def lock_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Where each strategy keeps its locks: nowhere (in-memory), SQLite, PostgreSQL, Redis."""
    return _store_url(request, tmp_path)


@pytest.fixture(params=SQL_STRATEGIES)
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
    # Resolved here, outside the event loop: the session fixtures run their own.
    if request.param == "redis":
        redis_url: str = request.getfixturevalue("redis_url")
        return redis_url
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
def redis_lock_prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix of this test's own, under the run's (deleted with it)."""
    run_prefix: str = request.getfixturevalue("redis_prefix")
    return f"{run_prefix}{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def lock_strategy(
    lock_store_url: str | None, request: pytest.FixtureRequest
) -> AsyncIterator[ILockStrategy]:
    """Each lock strategy in turn, with no lock held, on the test's own event loop."""
    if lock_store_url is None:
        yield InMemoryLockStrategy()
        return
    if lock_store_url.startswith("redis"):
        prefix: str = request.getfixturevalue("redis_lock_prefix")
        redis_locks = RedisLockStrategy.from_url(lock_store_url, prefix=prefix)
        try:
            yield redis_locks
        finally:
            await redis_locks.aclose()
        return
    await empty_lock_table(lock_store_url)
    engine = create_engine(lock_store_url)
    try:
        yield SqlAlchemyLockStrategy(engine)
    finally:
        await engine.dispose()
