"""Empty databases for the services' SQL tests: a SQLite file, or a new PostgreSQL database.

The services build their schema themselves - `start()` runs their migrations - so a test gets
an *empty* database and the service under test does the rest, as in production.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


@asynccontextmanager
async def empty_database(
    kind: str, postgres_url: str | None, directory: Path
) -> AsyncIterator[str]:
    """The URL of an empty database of ``kind`` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'service.db'}"
        return
    assert postgres_url is not None
    server = make_url(postgres_url)
    name = f"{server.database}_svc_{uuid.uuid4().hex[:8]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    await _execute(admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await _execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
