"""Databases for the persistence tests: SQLite files, and emptying a migrated database.

Fresh PostgreSQL databases come from tests/isolation.py.

Every schema here is built by running the migrations (core branch + this suite's own), the
way a service builds it at start-up - never by ``create_all`` behind the migrations' back.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import core_tables
from tests.warehouse.sql import warehouse_metadata


def sqlite_url(directory: Path, name: str = "service.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


async def empty_every_table(url: str) -> None:
    """Delete every row (the schema stays): a clean start for the next test."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for metadata in (core_tables(), warehouse_metadata):
                for table in metadata.sorted_tables:
                    await connection.execute(delete(table))
    finally:
        await engine.dispose()
