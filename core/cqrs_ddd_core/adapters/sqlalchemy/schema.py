"""`core_metadata`: the tables the core's SQL adapters own (outbox, inbox, locks, idempotency
keys).

Each adapter module defines its table on this one `MetaData`, so the migrations - and a
reader - find every core table in one place. A service's own tables live on its own metadata.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import read_only
from cqrs_ddd_core.primitives.exceptions import MissingTableError

# Deterministic constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

core_metadata = MetaData(naming_convention=NAMING_CONVENTION)


async def require_table(engine: AsyncEngine, table: Table, owner: str) -> None:
    """Raise `MissingTableError` naming ``table`` when ``engine``'s database lacks it.

    Called when a component starts, so a forgotten migration stops the service at once
    instead of failing in a background loop that only logs.
    """
    async with read_only(engine).connect() as connection:
        if not await connection.run_sync(_has_table, table.name):
            raise MissingTableError(table.name, owner)


def _has_table(connection: Connection, name: str) -> bool:
    return inspect(connection).has_table(name)
