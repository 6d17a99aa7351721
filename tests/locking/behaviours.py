"""Lock behaviours that hold for more than one strategy, written once.

`count_with_clients` checks exclusion between *clients* - separate engines or Redis
connections standing for separate processes, which the contract suite (one strategy object)
cannot show. `serve_in_arrival_order` checks FIFO fairness inside one process. Each strategy's
own test module calls them with its clients; the thing to notice is the ``await`` inside the
critical section: without it, a lock test proves nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

TTL = 30.0


async def count_with_clients(
    clients: Sequence[ILockStrategy], resource: ResourceIdentifier, increments: int = 24
) -> tuple[int, int]:
    """Increment a counter under ``resource`` from every client in turn, with a read, an await
    and a write inside the lock. Returns (most holders inside at once, final count)."""
    inside = 0
    most_inside = 0
    counter = 0

    async def increment(locks: ILockStrategy) -> None:
        nonlocal inside, most_inside, counter
        token = await locks.acquire(resource, timeout=20.0, ttl=TTL)
        try:
            inside += 1
            most_inside = max(most_inside, inside)
            value = counter
            await asyncio.sleep(0.002)
            counter = value + 1
            inside -= 1
        finally:
            await locks.release(resource, token)

    jobs = [increment(clients[i % len(clients)]) for i in range(increments)]
    await asyncio.wait_for(asyncio.gather(*jobs), 30)
    return most_inside, counter


async def serve_in_arrival_order(
    locks: ILockStrategy, resource: ResourceIdentifier, waiters: int = 8
) -> tuple[list[str], list[str]]:
    """Queue ``waiters`` behind a holder one after another, then release it.

    Returns (the order they asked in, the order they were served in)."""
    holder = await locks.acquire(resource, timeout=1.0, ttl=TTL)
    served: list[str] = []

    async def take_turn(name: str) -> None:
        token = await locks.acquire(resource, timeout=10.0, ttl=TTL)
        served.append(name)
        await asyncio.sleep(0.001)
        await locks.release(resource, token)

    names = [f"waiter-{i}" for i in range(waiters)]
    tasks = []
    for name in names:
        tasks.append(asyncio.create_task(take_turn(name)))
        await asyncio.sleep(0)  # let it join the queue before the next one

    await locks.release(resource, holder)
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    return names, served
