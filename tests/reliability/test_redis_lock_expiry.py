"""A billing replica killed while it holds its payment's lock in Redis.

Two billing replicas share a PostgreSQL database and keep their locks in Redis (``LOCK_URL``,
a key prefix of this test's own, ``LOCK_TTL_SECONDS``). The first runs with a
`FaultyPaymentBus` that holds each payment *after* paying - the invoice paid but not
committed, the customer's account locked. Once it says so, it is SIGKILLed: nothing releases
its lock, its transaction dies with its database connection, and the broker hands the order to
the other replica.

What the test shows, step by step:

* the dead replica's lock stays in Redis - nobody released it - and frees only when its ttl
  runs out;
* the other replica takes over the redelivered order, but pays it only after that lock
  expired: each handling is a lock session of its own, so a redelivery waits for the dead
  holder's lock instead of re-entering it;
* another customer's order is paid meanwhile: a payment locks the account money leaves, never
  the merchant's, so one customer's stuck lock holds up nobody else;
* and the suite's invariants hold: every order final, every invoice paid once, money moved
  once, nothing left in the outboxes or dead letters.

Run with ``-s`` to see the measured times.
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
from tests.tokens import auth_headers

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.rabbitmq,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
]

LOCK_TTL = 8.0
"""Far above the few hundred milliseconds between the holder saying so and its kill, and
below billing's 10 s lock timeout, so the redelivered order waits for the lock instead of
failing; long enough for another customer's order to be paid well within it."""
BALANCES = {"alice": Decimal("200"), "bob": Decimal("100")}
HELD = re.compile(rf"{HOLDS_LOCKS} (\S+)")
ALICE_LOCK = ResourceIdentifier("Account", "alice")
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

    held = {lock.resource: lock for lock in locks_in_redis(redis_url, lock_prefix)}
    assert ALICE_LOCK in held
    assert MERCHANT_LOCK not in held, "a payment locked the account money enters"
    holding.kill()
    killed_at = time.time()
    # Nobody released it: the dead replica's lock expires no sooner than a ttl after it was
    # taken.
    alice_expires_at = held[ALICE_LOCK].expires_at.timestamp()
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

    assert held_final_at >= alice_expires_at, "taken over while the dead replica held alice"
    assert freed_at >= alice_expires_at
    assert later_final_at < alice_expires_at, "bob's order waited for alice's lock"
    print(
        f"\nttl {LOCK_TTL}s; after the SIGKILL: alice's lock expiring in "
        f"{alice_expires_at - killed_at:.2f}s, held order {held_order} final after "
        f"{held_final_at - killed_at:.2f}s (taken over by {taking_over.name}), every lock "
        f"gone after {freed_at - killed_at:.2f}s, bob's order final after "
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


def locks_in_redis(redis_url: str, prefix: str) -> list[LockInfo]:
    async def read() -> list[LockInfo]:
        locks = RedisLockStrategy.from_url(redis_url, prefix=prefix)
        try:
            return await locks.get_active_locks()
        finally:
            await locks.aclose()

    return asyncio.run(read())


def is_final(ordering_url: str, order_id: str) -> bool:
    response = httpx.get(f"{ordering_url}/orders/{order_id}", headers=auth_headers(), timeout=10)
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
