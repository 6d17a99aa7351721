"""`shared_lock_strategy`: locks every process of a service shares, next to its database.

Why a separate file for SQLite: a lock operation is a short transaction of its own, and SQLite
has one writer per file. A command may take its locks before its transaction begins and have
a nested command re-enter them afterwards - and re-entering writes the hold count to the locks
table. In the same file that write would wait for the command's own open transaction, until the
busy timeout. PostgreSQL locks rows, not the database, so there the locks table sits with the
rest. Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, is_sqlite
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.ports.locking import ILockStrategy


def shared_lock_strategy(engine: AsyncEngine) -> tuple[ILockStrategy, AsyncEngine | None]:
    """The lock strategy, and the engine of the lock database if it has one of its own."""
    if not is_sqlite(engine):
        return SqlAlchemyLockStrategy(engine), None
    database = engine.url.database or ""
    lock_engine = create_engine(f"sqlite+aiosqlite:///{Path(database).with_suffix('.locks.db')}")
    return SqlAlchemyLockStrategy(lock_engine), lock_engine
