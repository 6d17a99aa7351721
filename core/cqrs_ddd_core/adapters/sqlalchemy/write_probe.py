"""`take_a_write`: does this database accept a write right now, within a short timeout?

What a readiness probe asks. A ``SELECT 1`` answers even while every write waits - a SQLite
file whose write lock another process holds, a PostgreSQL primary stuck flushing its log - so
the probe takes the path a command takes, and leaves nothing behind:

* SQLite: ``BEGIN IMMEDIATE`` (the one write lock of the file, what every writer queues for),
  then ``ROLLBACK``. On a connection of its own, opened with a busy timeout as short as the
  probe's, so a probe that gives up leaves no pooled connection waiting 30 s for the lock.
* PostgreSQL: a transaction that is given a transaction id (``pg_current_xact_id()``) and
  commits, which writes a commit record to the log and waits for it to be flushed - without
  a table of its own. A standby refuses the id; a server that only allows reads
  (``default_transaction_read_only``) gives it, so the probe reads ``transaction_read_only``
  too. Each probe spends one id.

Guide: docs/deployment.md.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiosqlite
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import is_sqlite

_GRACE = 1.0
"""Seconds past the probe's own timeout before it is abandoned (a file system that hangs)."""


async def take_a_write(engine: AsyncEngine, timeout: float) -> None:
    """Return once ``engine``'s database took a write transaction; raise if it did not within
    ``timeout`` seconds (`TimeoutError`, or SQLite's "database is locked")."""
    if is_sqlite(engine):
        async with asyncio.timeout(timeout + _GRACE):
            await _take_sqlite_write_lock(engine.url.database or "", timeout)
        return
    async with asyncio.timeout(timeout), engine.begin() as connection:  # PostgreSQL
        read_only = await connection.scalar(
            text("SELECT current_setting('transaction_read_only'), pg_current_xact_id()")
        )
    if read_only == "on":
        raise ReadOnlyDatabaseError("the database accepts no writes (transaction_read_only)")


class ReadOnlyDatabaseError(RuntimeError):
    """The database answers, but only reads: a standby, or ``default_transaction_read_only``."""


async def _take_sqlite_write_lock(path: str, timeout: float) -> None:
    # mode=rw: a probe must not create the database file it is looking for. quote: what a URI
    # would misread in a path (``#``, ``%``, spaces).
    uri = f"file:{quote(path)}?mode=rw"
    async with aiosqlite.connect(
        uri, uri=True, timeout=timeout, isolation_level=None
    ) as connection:
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute("ROLLBACK")
