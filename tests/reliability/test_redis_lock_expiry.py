"""A billing replica killed while it holds its payment's locks in Redis.

Two billing replicas share a PostgreSQL database and keep their locks in Redis (``LOCK_URL``,
a key prefix of this test's own, ``LOCK_TTL_SECONDS=3``). The first runs with a
`FaultyPaymentBus` that holds each payment *after* paying - the invoice paid but not
committed, its invoice and account locks taken. Once it says so, it is SIGKILLed: nothing
releases its locks, its transaction dies with its database connection, and the broker hands
the order to the other replica.

What the test shows, step by step:

* the dead replica's locks stay in Redis - nobody released them - and free only when their
  ttl runs out;
* the other replica takes over the redelivered order and pays it once;
* an order placed after the kill, which needs the merchant account the dead replica held,
  is paid only after that lock expired - the ttl, not a release, let it through;
* and the suite's invariants hold: every order final, every invoice paid once, money moved
  once, nothing left in the outboxes or dead letters.

Run with ``-s`` to see the measured times. One of them needs explaining: the locks are all
gone about *two* ttls after the kill. The redelivered order is the same message, and a
consumer's lock session is the message's id, so the taking-over replica *re-enters* the dead
replica's locks (here only once the later order, queued first in its process, is through) -
and re-entering renews their ttl; its own holds released, the dead replica's stay until that
renewed ttl runs out.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.ports.locking import LockInfo
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from deploy.cluster import ServiceProcess
from tests.reliability.faults import HOLDS_LOCKS
from tests.reliability.faulty_service import faulty
from tests.reliability.invariants import MERCHANT
from tests.reliability.shop import MakeCluster, open_accounts, place_orders, settle_and_check

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.rabbitmq,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
]

LOCK_TTL = 6.0
"""Far above the few hundred milliseconds between the holder saying so and its kill, and
below billing's 10 s lock timeout, so the later order waits for the lock instead of retrying."""
BALANCES = {"alice": Decimal("200"), "bob": Decimal("100")}
HELD = re.compile(rf"{HOLDS_LOCKS} (\S+)")
MERCHANT_LOCK = ResourceIdentifier("Account", MERCHANT)


def test_a_replica_killed_holding_redis_locks_frees_them_after_the_ttl_and_is_taken_over(
    vhost_url: str,
    postgres_urls: dict[str, str],
    redis_url: str,
    lock_prefix: str,
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster(
        vhost_url,
        postgres_urls,
        extra_env={
            "LOCK_URL": redis_url,
            "LOCK_PREFIX": lock_prefix,
            "LOCK_TTL_SECONDS": str(LOCK_TTL),
        },
    )
    holding = cluster.add("billing", entry=faulty("billing", "--hold-locks=120"))
    taking_over = cluster.add("billing")
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), BALANCES))
    held_order = place_until_held(cluster.url("ordering"), holding)

    held = locks_in_redis(redis_url, lock_prefix)
    assert {lock.resource for lock in held} >= {
        ResourceIdentifier("Invoice", held_order),
        ResourceIdentifier("Account", "alice"),
        MERCHANT_LOCK,
    }
    holding.kill()
    killed_at = time.time()
    # Nobody released them: the dead replica's locks are all still there, and the merchant
    # account's expires no sooner than a ttl after it was (re)taken.
    merchant = next(lock for lock in locks_in_redis(redis_url, lock_prefix) if is_merchant(lock))
    merchant_expires_at = merchant.expires_at.timestamp()
    [later_order] = asyncio.run(place_orders([cluster.url("ordering")], [order("bob")]))

    seen = watch(
        {
            "held order final": lambda: is_final(cluster.url("ordering"), held_order),
            "no lock left": lambda: not locks_in_redis(redis_url, lock_prefix),
            "later order final": lambda: is_final(cluster.url("ordering"), later_order),
        },
        timeout=60,
    )
    held_final_at, freed_at, later_final_at = seen.values()

    assert later_final_at >= merchant_expires_at, "paid while the dead replica held the merchant"
    assert freed_at >= merchant_expires_at
    print(
        f"\nttl {LOCK_TTL}s; after the SIGKILL: merchant lock expiring in "
        f"{merchant_expires_at - killed_at:.2f}s, held order {held_order} final after "
        f"{held_final_at - killed_at:.2f}s (taken over by {taking_over.name}), every lock "
        f"gone after {freed_at - killed_at:.2f}s, later order final after "
        f"{later_final_at - killed_at:.2f}s"
    )
    state = settle_and_check(
        cluster, vhost_url, {**BALANCES, MERCHANT: Decimal("0")}, expected_orders=None, timeout=60
    )
    assert state.orders[held_order]["status"] == "CONFIRMED"
    assert state.orders[later_order]["status"] == "CONFIRMED"


def order(customer: str) -> dict[str, object]:
    return {
        "customer_id": customer,
        "items": [{"sku": "SKU-1", "quantity": 1, "unit_price": "12.00"}],
    }


def place_until_held(ordering_url: str, holding: ServiceProcess) -> str:
    """Place alice's orders one at a time until ``holding`` holds one (the replicas take turns,
    so the first or the second); the others are paid by the other replica meanwhile."""
    for _ in range(5):
        [order_id] = asyncio.run(place_orders([ordering_url], [order("alice")]))
        deadline = time.monotonic() + 30
        while order_id not in HELD.findall(holding.log_text()):
            if is_final(ordering_url, order_id):
                break  # the other replica paid it
            assert time.monotonic() < deadline, f"order {order_id} neither held nor paid"
            time.sleep(0.05)
        else:
            return order_id
    raise AssertionError(f"{holding.name} held none of five orders")


def is_merchant(lock: LockInfo) -> bool:
    return lock.resource == MERCHANT_LOCK


def locks_in_redis(redis_url: str, prefix: str) -> list[LockInfo]:
    async def read() -> list[LockInfo]:
        locks = RedisLockStrategy.from_url(redis_url, prefix=prefix)
        try:
            return await locks.get_active_locks()
        finally:
            await locks.aclose()

    return asyncio.run(read())


def is_final(ordering_url: str, order_id: str) -> bool:
    response = httpx.get(f"{ordering_url}/orders/{order_id}", timeout=10)
    assert response.status_code == 200, response.text
    return bool(response.json()["status"] != "PENDING")


def watch(conditions: dict[str, Callable[[], bool]], timeout: float) -> dict[str, float]:
    """When (wall clock) each condition was first seen true, polling them all together."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(conditions):
        for name, condition in conditions.items():
            if name not in seen and condition():
                seen[name] = time.time()
        missing = [name for name in conditions if name not in seen]
        assert time.monotonic() < deadline, f"not within {timeout}s: {missing}"
        time.sleep(0.05)
    return {name: seen[name] for name in conditions}
