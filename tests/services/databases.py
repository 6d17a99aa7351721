"""Empty databases for the services' SQL tests: a SQLite file, or a new PostgreSQL database.

The services build their schema themselves - `start()` runs their migrations - so a test gets
an *empty* database and the service under test does the rest, as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.isolation import fresh_postgres_database


@asynccontextmanager
async def empty_database(
    kind: str, postgres_url: str | None, directory: Path
) -> AsyncIterator[str]:
    """The URL of an empty database of ``kind`` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'service.db'}"
        return
    assert postgres_url is not None
    async with fresh_postgres_database(postgres_url, "svc") as url:
        yield url
