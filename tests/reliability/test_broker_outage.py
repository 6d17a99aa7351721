"""The broker goes away for seconds while orders flow: nothing is lost, nothing applied twice.

Ordering and billing reach RabbitMQ only through a `BrokerProxy`; mid-way through 500 orders
it resets their connections and refuses new ones for several seconds. Orders keep being
accepted meanwhile (the outbox holds their events), publishes in flight fail or lose their
confirm (retried: duplicates on the wire), deliveries in flight lose their acks (redelivered).
When the broker is back, the robust connections resume and every order settles - once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.reliability.broker_proxy import BrokerProxy
from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    settle_and_check,
    workload,
)

pytestmark = [pytest.mark.reliability, pytest.mark.rabbitmq, pytest.mark.slow]

ORDERS = 500
OUTAGE_SECONDS = 6.0
OUTAGE_AFTER_ORDERS = 100


def test_the_broker_gone_for_seconds_while_500_orders_flow_loses_nothing_and_applies_nothing_twice(
    vhost_url: str, broker_proxy: BrokerProxy, make_cluster: MakeCluster
) -> None:
    shop = workload(orders=ORDERS, customers=25)
    cluster = make_cluster(broker_proxy.url(vhost_url))
    cluster.add("billing")
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))

    during_outage = asyncio.run(
        place_orders_through_an_outage(cluster.url("ordering"), shop.orders, broker_proxy)
    )

    assert broker_proxy.connections_cut >= 2, "the outage cut no service connection"
    assert during_outage > 0, "no order was placed while the broker was away"
    state = settle_and_check(
        cluster, vhost_url, shop.opening_balances, expected_orders=ORDERS, timeout=120
    )
    assert {"CONFIRMED", "CANCELLED"} <= state.statuses.keys(), state.statuses


async def place_orders_through_an_outage(
    ordering_url: str, orders: list[dict[str, object]], proxy: BrokerProxy
) -> int:
    """Place ``orders`` in chunks, pulling the plug after the first ones; returns how many
    orders were placed while the broker was away."""
    placed, during_outage = 0, 0
    outage_ends: float | None = None
    for start in range(0, len(orders), 20):
        if placed >= OUTAGE_AFTER_ORDERS and outage_ends is None:
            await asyncio.to_thread(proxy.go_down)
            outage_ends = time.monotonic() + OUTAGE_SECONDS
        chunk = orders[start : start + 20]
        await place_orders([ordering_url], chunk, concurrency=8)
        placed += len(chunk)
        if not proxy.up:
            during_outage += len(chunk)
            if outage_ends is not None and time.monotonic() >= outage_ends:
                await asyncio.to_thread(proxy.come_back)
    if not proxy.up:
        await asyncio.sleep(max(0.0, (outage_ends or 0) - time.monotonic()))
        await asyncio.to_thread(proxy.come_back)
    return during_outage
