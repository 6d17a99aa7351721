"""SQL lock stores for the tests: a database of the suite's own, and an empty locks table.

The locking suite keeps its PostgreSQL tables in a database of its own, next to the run's
(``postgres_url``), so creating ``cqrs_locks`` here never collides with migrations run by
other suites against the run's database.
"""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import create_schema, locks_table


async def empty_lock_table(url: str) -> None:
    """Create the locks table, or empty it (PostgreSQL's database serves the whole run)."""
    engine = create_engine(url)
    try:
        await create_schema(engine)
        async with engine.begin() as connection:
            await connection.execute(delete(locks_table))
    finally:
        await engine.dispose()


async def create_database_next_to(postgres_url: str) -> str:
    """A new empty database on ``postgres_url``'s server; its SQLAlchemy URL."""
    server = make_url(postgres_url)
    name = f"{server.database}_locks_{uuid.uuid4().hex[:6]}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


async def drop_database(postgres_url: str, url: str) -> None:
    await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def _admin(postgres_url: str, sql: str) -> None:
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
