"""What the Redis strategy adds: one key is the lock, for every process that reaches the server.

Within one process, waiters queue in memory first; these tests use several strategies on
separate clients - separate connection pools, as separate processes would have - so the
server-side scripts themselves must do the excluding. Keys live under the run's prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.locking.behaviours import count_with_clients, serve_in_arrival_order

pytestmark = pytest.mark.redis

ACCOUNT = ResourceIdentifier("Account", "acc-1")
TTL = 30.0


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def three_processes(redis_url: str, prefix: str) -> AsyncIterator[list[RedisLockStrategy]]:
    """Three strategies on three clients over one Redis and one key prefix."""
    strategies = [RedisLockStrategy.from_url(redis_url, prefix=prefix) for _ in range(3)]
    try:
        yield strategies
    finally:
        for strategy in strategies:
            await strategy.aclose()


async def test_holders_in_different_processes_exclude_each_other(
    three_processes: list[RedisLockStrategy],
) -> None:
    assert await count_with_clients(three_processes, ACCOUNT) == (1, 24)


async def test_waiters_in_one_process_get_the_lock_in_the_order_they_asked(
    three_processes: list[RedisLockStrategy],
) -> None:
    asked, served = await serve_in_arrival_order(three_processes[0], ACCOUNT)

    assert served == asked


async def test_a_lock_is_visible_to_other_processes_at_once(
    three_processes: list[RedisLockStrategy],
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


async def test_a_waiting_process_gets_the_lock_when_the_holders_ttl_runs_out(
    three_processes: list[RedisLockStrategy],
) -> None:
    crashed, survivor, _ = three_processes
    stale = await crashed.acquire(ACCOUNT, timeout=1.0, ttl=0.3)

    token = await survivor.acquire(ACCOUNT, timeout=10.0, ttl=TTL)

    assert token != stale
    with pytest.raises(LockReleaseError):  # and the stale release leaves the new lock alone
        await crashed.release(ACCOUNT, stale)
    assert await crashed.extend(ACCOUNT, stale, ttl=TTL) is False
    [lock] = await survivor.get_active_locks()
    assert lock.token == token


async def test_a_session_re_enters_from_another_process(
    three_processes: list[RedisLockStrategy],
) -> None:
    first, second, _ = three_processes
    outer = await first.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="root-1")
    inner = await second.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="root-1")

    assert inner == outer
    [lock] = await first.get_active_locks()
    assert lock.holds == 2


async def test_the_lock_expires_on_redis_with_the_ttl_asked_for(
    three_processes: list[RedisLockStrategy], redis_url: str, prefix: str
) -> None:
    locks = three_processes[0]
    await locks.acquire(ACCOUNT, timeout=1.0, ttl=12.5)

    client = Redis.from_url(redis_url)
    try:
        pttl = await client.pttl(f"{prefix}{ACCOUNT.key}")
    finally:
        await client.aclose()
    assert 12_000 < pttl <= 12_500  # Redis's clock decides, not the client's


async def test_strategies_with_different_prefixes_never_see_each_other(
    redis_url: str, redis_prefix: str
) -> None:
    ordering = RedisLockStrategy.from_url(redis_url, prefix=f"{redis_prefix}ordering:")
    billing = RedisLockStrategy.from_url(redis_url, prefix=f"{redis_prefix}billing:")
    try:
        await ordering.acquire(ACCOUNT, timeout=1.0, ttl=TTL)
        token = await billing.acquire(ACCOUNT, timeout=0.1, ttl=TTL)

        assert [lock.token for lock in await billing.get_active_locks()] == [token]
    finally:
        await ordering.aclose()
        await billing.aclose()


async def test_an_unreachable_redis_is_unhealthy_and_fails_the_section_clearly() -> None:
    # Nothing listens on port 1: every connection attempt is refused at once.
    locks = RedisLockStrategy.from_url("redis://127.0.0.1:1/0")
    try:
        assert await locks.health_check() is False

        with pytest.raises(LockAcquisitionError) as caught:
            async with CriticalSection([ACCOUNT], locks, timeout=1.0):
                pytest.fail("the section must not run without its lock")
        assert caught.value.resource == ACCOUNT
        assert "lock store failed" in caught.value.reason
        assert caught.value.__cause__ is not None
    finally:
        await locks.aclose()
