"""What the SQL strategy adds: the table is the lock, for every process that shares the database.

Within one process, waiters queue in memory first; these tests use several strategies on
separate engines - separate connection pools, as separate processes would have - so the rows
themselves must do the excluding.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.locking.behaviours import count_with_clients
from tests.locking.lock_stores import empty_lock_table

ACCOUNT = ResourceIdentifier("Account", "acc-1")
TTL = 30.0


@pytest.fixture
async def three_processes(sql_lock_store_url: str) -> AsyncIterator[list[SqlAlchemyLockStrategy]]:
    """Three strategies on three engines over one database."""
    await empty_lock_table(sql_lock_store_url)
    engines = [create_engine(sql_lock_store_url) for _ in range(3)]
    try:
        yield [SqlAlchemyLockStrategy(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_holders_in_different_processes_exclude_each_other(
    three_processes: list[SqlAlchemyLockStrategy],
) -> None:
    assert await count_with_clients(three_processes, ACCOUNT) == (1, 24)


async def test_a_lock_is_visible_to_other_processes_at_once(
    three_processes: list[SqlAlchemyLockStrategy],
) -> None:
    first, second, _ = three_processes
    token = await first.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="root-1")

    [seen] = await second.get_active_locks()
    assert (seen.resource, seen.token, seen.session_id) == (ACCOUNT, token, "root-1")
    with pytest.raises(LockAcquisitionError) as caught:
        await second.acquire(ACCOUNT, timeout=0.1, ttl=TTL, session_id="root-2")
    assert "'root-1'" in caught.value.reason

    await first.release(ACCOUNT, token)
    assert await second.get_active_locks() == []


async def test_a_crashed_process_lock_is_taken_over_after_its_ttl(
    three_processes: list[SqlAlchemyLockStrategy],
) -> None:
    crashed, survivor, _ = three_processes
    stale = await crashed.acquire(ACCOUNT, timeout=1.0, ttl=0.3)

    token = await survivor.acquire(ACCOUNT, timeout=10.0, ttl=TTL)

    assert token != stale
    with pytest.raises(LockReleaseError):
        await crashed.release(ACCOUNT, stale)
    [lock] = await survivor.get_active_locks()
    assert lock.token == token


async def test_a_session_re_enters_through_the_row_from_another_engine(
    three_processes: list[SqlAlchemyLockStrategy],
) -> None:
    first, second, _ = three_processes
    outer = await first.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="root-1")
    inner = await second.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="root-1")

    assert inner == outer
    [lock] = await first.get_active_locks()
    assert lock.holds == 2


async def test_an_unreachable_store_is_unhealthy_and_fails_the_section_clearly() -> None:
    # Nothing listens on port 1: every connection attempt is refused at once.
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/locks")
    try:
        locks = SqlAlchemyLockStrategy(engine)
        assert await locks.health_check() is False

        with pytest.raises(LockAcquisitionError) as caught:
            async with CriticalSection([ACCOUNT], locks, timeout=1.0):
                pytest.fail("the section must not run without its lock")
        assert caught.value.resource == ACCOUNT
        assert "lock store failed" in caught.value.reason
        assert caught.value.__cause__ is not None
    finally:
        await engine.dispose()
