"""A billing replica killed mid-handling: its messages are redelivered and applied once.

Two billing replicas share the queue and a PostgreSQL database. One runs with a delaying
`FaultyPaymentBus` (tests/reliability/faults.py): it holds every payment inside the message's
open transaction (inbox checked, nothing committed). The test waits until it says it holds an
order, then SIGKILLs it: its transaction dies with its connection, and the broker hands its
unacknowledged messages to the other replica - which must apply each one exactly once.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from deploy.cluster import ServiceProcess
from tests.reliability.faults import HOLDS
from tests.reliability.faulty_service import faulty
from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    settle_and_check,
    workload,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.rabbitmq,
    pytest.mark.postgres,
    pytest.mark.slow,
]

HELD = re.compile(rf"{HOLDS} (\S+)")


def test_a_billing_replica_killed_mid_payment_has_its_messages_redelivered_and_applied_once(
    vhost_url: str, postgres_urls: dict[str, str], make_cluster: MakeCluster
) -> None:
    # Few orders: each replica holds at most a handful, well under its connection pool.
    shop = workload(orders=12, customers=4)
    cluster = make_cluster(vhost_url, postgres_urls)
    cluster.add("billing")
    stalling = cluster.add("billing", entry=faulty("billing", "--payment-delay=120"))
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))

    asyncio.run(place_orders([cluster.url("ordering")], shop.orders))
    held = orders_held_by(stalling, timeout=30)
    stalling.kill()

    state = settle_and_check(
        cluster, vhost_url, shop.opening_balances, expected_orders=len(shop.orders), timeout=60
    )
    for order_id in held:
        assert state.orders[order_id]["status"] in ("CONFIRMED", "CANCELLED"), order_id


def orders_held_by(replica: ServiceProcess, timeout: float) -> set[str]:
    """The orders ``replica`` is holding mid-payment, once it holds at least one."""
    deadline = time.monotonic() + timeout
    while not (held := set(HELD.findall(replica.log_text()))):
        assert time.monotonic() < deadline, f"{replica.name} never received a payment"
        time.sleep(0.1)
    return held
