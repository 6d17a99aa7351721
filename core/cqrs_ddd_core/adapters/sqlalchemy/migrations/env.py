"""Alembic environment of the core branch, shared by the services' migrations.

Two ways in. `migrate.upgrade` hands us an open connection of its async engine (through
``run_sync``) inside its transaction: we only run the migrations on it. The ``alembic`` command
line gives us ``sqlalchemy.url`` instead: we open an async engine ourselves and do the same
through ``run_sync``, so SQLite (aiosqlite) and PostgreSQL (asyncpg) work alike.
``target_metadata`` (for autogenerate and comparisons) is what a service passes in
``config.attributes["target_metadata"]`` - it includes `core_tables()` when it wants them -
and the core tables alone otherwise.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import core_tables

config = context.config
target_metadata: MetaData | list[MetaData] = config.attributes.get("target_metadata", core_tables())


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    # Inside migrate.upgrade's transaction this begins nothing: that one commits.
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline(url: str) -> None:
    """``alembic upgrade --sql``: print the SQL for a DBA instead of running it."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "No database to migrate: call cqrs_ddd_core.adapters.sqlalchemy.migrate.upgrade, "
            "or set sqlalchemy.url in the Alembic configuration"
        )
    if context.is_offline_mode():
        run_migrations_offline(url)
    else:
        asyncio.run(run_migrations_from_url(url))
