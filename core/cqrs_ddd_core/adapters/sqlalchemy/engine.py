"""`create_engine`: an async engine configured so transactions really are transactions.

On SQLite, Python 3.11's sqlite3 driver does not begin a transaction for SELECT, DDL or
SAVEPOINT: two concurrent read-then-write transactions lose an update, and a rolled-back
savepoint is not undone. So we take transaction control away from the driver
(``isolation_level = None``) and issue ``BEGIN IMMEDIATE`` ourselves: writers queue on the
database lock (up to ``busy_timeout``) instead of failing or overwriting each other. WAL lets
readers of other processes carry on meanwhile.

A connection that only reads has no business queueing for the write lock: `read_only` gives
an engine (same pool) whose transactions begin ``DEFERRED`` - a WAL snapshot that never waits
for writers. Health checks and the short reads outside a unit of work use it, so they stay fast
while the service is busy writing.

SQLite also gets a small pool (`SQLITE_POOL_SIZE` + `SQLITE_MAX_OVERFLOW`): the file has one
writer at a time, so more connections only means more writers waiting inside SQLite - whose
busy handler sleeps between retries, up to 100 ms at a time - and one more thread and page
cache each. With few connections a burst waits in the pool's queue instead, and each
connection given back goes straight to the next task.

On PostgreSQL (asyncpg) the defaults are right; we only add ``pool_pre_ping``.
Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 2
"""One connection writing, one reading beside it (a query, a health check)."""
SQLITE_MAX_OVERFLOW = 2

_READ_ONLY = "cqrs_read_only"
"""The execution option `read_only` sets; the begin hook reads it."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An `AsyncEngine` for ``url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "Use a SQLite file, not :memory: - an in-memory database is one connection "
                "shared by every session, so it cannot show concurrent transactions"
            )
        kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
        kwargs.setdefault("pool_reset_on_return", None)  # `_on_reset` decides instead
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for connections that only read: same pool, no write lock taken on SQLite.

    Writing through it on SQLite is still possible but unsafe (a deferred transaction can be
    refused its upgrade): keep it for reads.
    """
    return engine.execution_options(**{_READ_ONLY: True})


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def insert_for(dialect: str) -> Callable[[Table], Any]:
    """``insert`` of the dialect named ``dialect`` (``"sqlite"`` or ``"postgresql"``): the one
    that knows ``ON CONFLICT``, which the generic ``sqlalchemy.insert`` does not."""
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # A connection given back to the pool is rolled back in case a transaction was left
        # open - with aiosqlite one more trip to the connection's thread after every commit.
        # SQLite knows whether a transaction is open: roll back only when one is.
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        # Take the write lock up front: a read-then-write transaction can then never be
        # overtaken between its read and its write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
