"""Databases for the persistence tests: SQLite files and fresh PostgreSQL databases.

Every schema here is built by running the migrations (core branch + this suite's own), the
way a service builds it at start-up - never by ``create_all`` behind the migrations' back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import core_tables
from tests.persistence.model import test_metadata


def sqlite_url(directory: Path, name: str = "service.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


async def create_postgres_database(postgres_url: str) -> str:
    """A new empty database on ``postgres_url``'s server; its URL."""
    name = f"{make_url(postgres_url).database}_{uuid.uuid4().hex[:8]}"
    await _admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    return make_url(postgres_url).set(database=name).render_as_string(False)


async def drop_postgres_database(postgres_url: str, url: str) -> None:
    """Drop ``url``'s database (made by `create_postgres_database` from ``postgres_url``)."""
    name = make_url(url).database
    await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def fresh_postgres_database(postgres_url: str) -> AsyncIterator[str]:
    """A new empty database next to ``postgres_url``'s, dropped afterwards."""
    url = await create_postgres_database(postgres_url)
    try:
        yield url
    finally:
        await drop_postgres_database(postgres_url, url)


async def _admin_execute(postgres_url: str, sql: str) -> None:
    """Run ``sql`` connected to ``postgres_url``'s database (never the one made or dropped)."""
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def empty_every_table(url: str) -> None:
    """Delete every row (the schema stays): a clean start for the next test."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for metadata in (core_tables(), test_metadata):
                for table in metadata.sorted_tables:
                    await connection.execute(delete(table))
    finally:
        await engine.dispose()
