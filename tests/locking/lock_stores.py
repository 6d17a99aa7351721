"""SQL lock stores for the tests: an empty locks table, in a database of the suite's own.

The locking suite keeps its PostgreSQL tables in a database of its own, next to the run's
(``postgres_url``), so creating ``cqrs_locks`` here never collides with migrations run by
other suites against the run's database.
"""

from __future__ import annotations

from sqlalchemy import delete

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
