"""Re-entering a lock from the process that holds it costs no round trip to the table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy, create_schema
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

ACCOUNT = ResourceIdentifier("Account", "alice")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


def count_statements(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(*args: object) -> None:
        statements.append(str(args[2]))

    return statements


async def test_a_nested_re_entry_is_counted_in_process_and_reported_truthfully(
    engine: AsyncEngine,
) -> None:
    locks = SqlAlchemyLockStrategy(engine)
    token = await locks.acquire(ACCOUNT, timeout=1, ttl=30, session_id="root")
    statements = count_statements(engine)

    again = await locks.acquire(ACCOUNT, timeout=1, ttl=30, session_id="root")
    await locks.release(ACCOUNT, again)

    assert again == token
    assert statements == []  # neither the re-entry nor its release touched the table
    again = await locks.acquire(ACCOUNT, timeout=1, ttl=30, session_id="root")
    [lock] = await locks.get_active_locks()
    assert lock.holds == 2
    await locks.release(ACCOUNT, again)
    await locks.release(ACCOUNT, token)
    assert await locks.get_active_locks() == []


async def test_a_re_entry_asking_for_more_time_than_is_left_extends_the_row(
    engine: AsyncEngine,
) -> None:
    locks = SqlAlchemyLockStrategy(engine)
    token = await locks.acquire(ACCOUNT, timeout=1, ttl=1, session_id="root")
    [before] = await locks.get_active_locks()

    again = await locks.acquire(ACCOUNT, timeout=1, ttl=60, session_id="root")

    [after] = await locks.get_active_locks()
    assert after.expires_at > before.expires_at
    assert after.holds == 2
    await locks.release(ACCOUNT, again)
    await locks.release(ACCOUNT, token)
    assert await locks.get_active_locks() == []
