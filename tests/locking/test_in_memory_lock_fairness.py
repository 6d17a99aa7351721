"""What only the in-memory strategy promises: waiters are served first come, first served."""

from __future__ import annotations

import asyncio

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.locking.behaviours import serve_in_arrival_order

ACCOUNT = ResourceIdentifier("Account", "acc-1")
TTL = 30.0


async def test_waiters_get_the_lock_in_the_order_they_asked() -> None:
    asked, served = await serve_in_arrival_order(InMemoryLockStrategy(), ACCOUNT)

    assert served == asked


async def test_a_newcomer_cannot_barge_past_the_queue() -> None:
    locks = InMemoryLockStrategy()
    holder = await locks.acquire(ACCOUNT, timeout=1.0, ttl=TTL)
    served: list[str] = []

    async def take_turn(name: str) -> None:
        token = await locks.acquire(ACCOUNT, timeout=10.0, ttl=TTL)
        served.append(name)
        await asyncio.sleep(0.01)
        await locks.release(ACCOUNT, token)

    waiter = asyncio.create_task(take_turn("waiter"))
    await asyncio.sleep(0)
    await locks.release(ACCOUNT, holder)  # handed to the waiter, which has not run yet
    newcomer = asyncio.create_task(take_turn("newcomer"))
    await asyncio.wait_for(asyncio.gather(waiter, newcomer), 10)

    assert served == ["waiter", "newcomer"]


async def test_a_waiter_of_the_holding_session_re_enters_without_queueing() -> None:
    locks = InMemoryLockStrategy()
    await locks.acquire(ACCOUNT, timeout=1.0, ttl=TTL, session_id="other")
    first = asyncio.create_task(locks.acquire(ACCOUNT, timeout=10.0, ttl=TTL, session_id="root"))
    await asyncio.sleep(0)
    second = asyncio.create_task(locks.acquire(ACCOUNT, timeout=10.0, ttl=TTL, session_id="root"))
    await asyncio.sleep(0)

    [held] = await locks.get_active_locks()
    await locks.release(ACCOUNT, held.token)
    tokens = await asyncio.wait_for(asyncio.gather(first, second), 10)

    [lock] = await locks.get_active_locks()
    assert list(tokens) == [lock.token, lock.token]
    assert (lock.session_id, lock.holds) == ("root", 2)
