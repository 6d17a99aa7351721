"""Replicas compete for the same work: every order is settled once, no money is made or lost.

Several OS processes per service share one database and one queue: relays claim outbox rows
against each other, consumers take turns on the queue, and billing's replicas lock the same
accounts (every payment goes to the one merchant account) across processes. Nothing but the
invariants is asserted: each order final once, each paid order charged once, balances
conserved, outboxes drained, no dead letter - and no deadlock, or the wait would time out.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    progress,
    settle_and_check,
    workload,
)

pytestmark = [pytest.mark.reliability, pytest.mark.rabbitmq, pytest.mark.slow]


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_100_orders_placed_concurrently_with_billing_as_2_replicas_are_each_paid_once(
    database: str, vhost_url: str, request: pytest.FixtureRequest
) -> None:
    """Every order ends CONFIRMED or CANCELLED, every paid order is charged exactly once, and
    the sum of all balances is unchanged."""
    shop = workload(orders=100, customers=10)
    urls = request.getfixturevalue("postgres_urls") if database == "postgres" else None
    make_cluster: MakeCluster = request.getfixturevalue("make_cluster")  # stopped before the drop
    cluster = make_cluster(vhost_url, urls)
    cluster.add("billing")
    cluster.add("billing")
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))

    # All 100 at once: 100 requests in flight, 100 payments racing for the merchant account.
    asyncio.run(place_orders([cluster.url("ordering")], shop.orders, concurrency=100))

    state = settle_and_check(
        cluster, vhost_url, shop.opening_balances, expected_orders=100, timeout=60
    )
    assert {"CONFIRMED", "CANCELLED"} <= state.statuses.keys(), state.statuses


@pytest.mark.postgres
def test_1000_orders_through_2_ordering_and_2_billing_replicas_settle_once_without_deadlock(
    vhost_url: str, postgres_urls: dict[str, str], make_cluster: MakeCluster
) -> None:
    """Two relays and two consumers per service, on PostgreSQL: the relays claim rows with
    ``FOR UPDATE SKIP LOCKED``, billing's replicas lock accounts in a shared table."""
    shop = workload(orders=1000, customers=40)
    cluster = make_cluster(vhost_url, postgres_urls)
    for service in ("billing", "billing", "ordering", "ordering"):
        cluster.add(service)
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))

    urls = [replica.url for replica in cluster.replicas("ordering")]
    asyncio.run(place_orders(urls, shop.orders, concurrency=32))

    state = settle_and_check(
        cluster, vhost_url, shop.opening_balances, expected_orders=1000, timeout=180
    )
    assert {"CONFIRMED", "CANCELLED"} <= state.statuses.keys(), state.statuses


@pytest.mark.postgres
def test_a_backlog_of_100_orders_is_drained_by_2_billing_replicas_on_postgres(
    vhost_url: str, postgres_urls: dict[str, str], make_cluster: MakeCluster
) -> None:
    """Billing comes back to a full queue: each replica takes a full prefetch of payments at
    once, and every one of them must still be settled once."""
    shop = workload(orders=100, customers=10)
    cluster = make_cluster(vhost_url, postgres_urls)
    billing = [cluster.add("billing"), cluster.add("billing")]
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))
    for replica in billing:
        replica.terminate()

    asyncio.run(place_orders([cluster.url("ordering")], shop.orders, concurrency=32))
    waiting = asyncio.run(progress(postgres_urls["ordering"], postgres_urls["billing"]))
    assert waiting.pending == 100, waiting
    cluster.start()  # both billing replicas again, to 100 waiting OrderCreated

    settle_and_check(cluster, vhost_url, shop.opening_balances, expected_orders=100, timeout=60)
