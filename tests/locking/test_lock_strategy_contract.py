"""The `ILockStrategy` contract, run unchanged against in-memory, SQLite, PostgreSQL and Redis.

Every exclusion test holds an ``await`` inside the lock: without one, asyncio would serialise
the tasks by itself and the test would prove nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

ACCOUNT = ResourceIdentifier("Account", "acc-1")
WAIT = 10.0  # generous: a correct strategy gets there long before; a broken one fails, not hangs
TTL = 30.0
SHORT = 0.05


async def bounded(*aws: Awaitable[None], seconds: float = 30.0) -> None:
    """Gather with a deadline, so a lost wake-up fails the test instead of hanging it."""
    await asyncio.wait_for(asyncio.gather(*aws), seconds)


async def test_only_one_holder_at_a_time_across_awaits(lock_strategy: ILockStrategy) -> None:
    inside = 0
    most_inside = 0
    counter = 0

    async def increment() -> None:
        nonlocal inside, most_inside, counter
        token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
        try:
            inside += 1
            most_inside = max(most_inside, inside)
            value = counter
            await asyncio.sleep(0.001)  # another task would overwrite us here without the lock
            counter = value + 1
            inside -= 1
        finally:
            await lock_strategy.release(ACCOUNT, token)

    await bounded(*(increment() for _ in range(30)))

    assert most_inside == 1
    assert counter == 30
    assert await lock_strategy.get_active_locks() == []


async def test_a_third_waiter_never_lets_two_holders_in(lock_strategy: ILockStrategy) -> None:
    first = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
    holders: set[str] = set()
    most_holders = 0

    async def hold(name: str) -> None:
        nonlocal most_holders
        token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
        holders.add(name)
        most_holders = max(most_holders, len(holders))
        await asyncio.sleep(0.05)
        holders.discard(name)
        await lock_strategy.release(ACCOUNT, token)

    waiters = [asyncio.create_task(hold(name)) for name in ("second", "third")]
    await asyncio.sleep(0.05)  # both are waiting now
    assert holders == set()
    await lock_strategy.release(ACCOUNT, first)
    await bounded(*waiters)

    assert most_holders == 1


async def test_a_timeout_names_the_resource_the_timeout_and_the_holder(
    lock_strategy: ILockStrategy,
) -> None:
    await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL, session_id="transfer-1")

    with pytest.raises(LockAcquisitionError) as caught:
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL, session_id="transfer-2")

    assert caught.value.resource == ACCOUNT
    assert caught.value.timeout == SHORT
    assert "'transfer-1'" in caught.value.reason
    assert "Account:acc-1" in str(caught.value)


async def test_a_release_with_a_wrong_token_fails_and_keeps_the_lock(
    lock_strategy: ILockStrategy,
) -> None:
    token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)

    with pytest.raises(LockReleaseError) as caught:
        await lock_strategy.release(ACCOUNT, "not-the-token")

    assert caught.value.resource == ACCOUNT
    assert [lock.token for lock in await lock_strategy.get_active_locks()] == [token]
    with pytest.raises(LockAcquisitionError):
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL)


async def test_a_second_release_of_the_same_token_fails(lock_strategy: ILockStrategy) -> None:
    token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
    await lock_strategy.release(ACCOUNT, token)

    with pytest.raises(LockReleaseError):
        await lock_strategy.release(ACCOUNT, token)


async def test_the_same_session_re_enters_and_releases_as_often_as_it_entered(
    lock_strategy: ILockStrategy,
) -> None:
    outer = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL, session_id="root-1")
    inner = await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL, session_id="root-1")

    assert inner == outer
    [lock] = await lock_strategy.get_active_locks()
    assert (lock.resource, lock.session_id, lock.holds) == (ACCOUNT, "root-1", 2)

    await lock_strategy.release(ACCOUNT, inner)
    [lock] = await lock_strategy.get_active_locks()
    assert lock.holds == 1
    with pytest.raises(LockAcquisitionError):  # still held after one of two releases
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL, session_id="root-2")

    await lock_strategy.release(ACCOUNT, outer)
    assert await lock_strategy.get_active_locks() == []
    other = await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL, session_id="root-2")
    await lock_strategy.release(ACCOUNT, other)


async def test_without_a_session_nobody_re_enters(lock_strategy: ILockStrategy) -> None:
    await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)

    with pytest.raises(LockAcquisitionError):
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL)


async def test_an_expired_lock_frees_itself_for_a_waiter(lock_strategy: ILockStrategy) -> None:
    vanished = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=0.3, session_id="crashed")

    # Nobody ever releases `vanished`: the waiter must get in once the ttl has passed.
    token = await asyncio.wait_for(
        lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL, session_id="survivor"), WAIT
    )

    assert token != vanished
    [lock] = await lock_strategy.get_active_locks()
    assert (lock.token, lock.session_id) == (token, "survivor")
    with pytest.raises(LockReleaseError):  # the vanished holder cannot free the new one
        await lock_strategy.release(ACCOUNT, vanished)
    await lock_strategy.release(ACCOUNT, token)


async def test_expired_locks_are_not_listed_as_active(lock_strategy: ILockStrategy) -> None:
    await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=0.1)
    other = ResourceIdentifier("Account", "acc-2")
    kept = await lock_strategy.acquire(other, timeout=WAIT, ttl=TTL, session_id="s")

    await asyncio.sleep(0.2)

    [lock] = await lock_strategy.get_active_locks()
    assert (lock.resource, lock.token, lock.session_id, lock.holds) == (other, kept, "s", 1)


async def test_a_release_after_the_ttl_expired_fails_loudly(lock_strategy: ILockStrategy) -> None:
    token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=0.1)
    await asyncio.sleep(0.2)

    with pytest.raises(LockReleaseError) as caught:
        await lock_strategy.release(ACCOUNT, token)

    assert "ttl" in caught.value.reason
    fresh = await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL)
    await lock_strategy.release(ACCOUNT, fresh)


async def test_extend_keeps_a_lock_alive_past_its_first_ttl(lock_strategy: ILockStrategy) -> None:
    token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=0.3)

    assert await lock_strategy.extend(ACCOUNT, token, ttl=TTL) is True
    assert await lock_strategy.extend(ACCOUNT, "not-the-token", ttl=TTL) is False
    await asyncio.sleep(0.4)

    assert [lock.token for lock in await lock_strategy.get_active_locks()] == [token]
    with pytest.raises(LockAcquisitionError):
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL)
    await lock_strategy.release(ACCOUNT, token)
    assert await lock_strategy.extend(ACCOUNT, token, ttl=TTL) is False


async def test_extend_cannot_revive_an_expired_lock(lock_strategy: ILockStrategy) -> None:
    token = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=0.1)
    await asyncio.sleep(0.2)

    assert await lock_strategy.extend(ACCOUNT, token, ttl=TTL) is False
    assert await lock_strategy.get_active_locks() == []


async def test_active_locks_report_every_holder(lock_strategy: ILockStrategy) -> None:
    first = ResourceIdentifier("Account", "acc-1")
    second = ResourceIdentifier("Order", "order-9")
    t1 = await lock_strategy.acquire(first, timeout=WAIT, ttl=TTL, session_id="a")
    t2 = await lock_strategy.acquire(second, timeout=WAIT, ttl=TTL)

    locks = {lock.resource: lock for lock in await lock_strategy.get_active_locks()}

    assert set(locks) == {first, second}
    assert (locks[first].token, locks[first].session_id) == (t1, "a")
    assert (locks[second].token, locks[second].session_id) == (t2, None)
    assert all(lock.expires_at.tzinfo is not None for lock in locks.values())


async def test_a_healthy_store_says_so(lock_strategy: ILockStrategy) -> None:
    assert await lock_strategy.health_check() is True


async def test_a_cancelled_waiter_leaves_nothing_behind(lock_strategy: ILockStrategy) -> None:
    holder = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
    waiter = asyncio.create_task(lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    await lock_strategy.release(ACCOUNT, holder)

    token = await lock_strategy.acquire(ACCOUNT, timeout=1.0, ttl=TTL)
    await lock_strategy.release(ACCOUNT, token)
    assert await lock_strategy.get_active_locks() == []


async def test_a_timed_out_waiter_leaves_nothing_behind(lock_strategy: ILockStrategy) -> None:
    holder = await lock_strategy.acquire(ACCOUNT, timeout=WAIT, ttl=TTL)
    with pytest.raises(LockAcquisitionError):
        await lock_strategy.acquire(ACCOUNT, timeout=SHORT, ttl=TTL)

    await lock_strategy.release(ACCOUNT, holder)

    assert await lock_strategy.get_active_locks() == []
    token = await lock_strategy.acquire(ACCOUNT, timeout=1.0, ttl=TTL)
    await lock_strategy.release(ACCOUNT, token)
