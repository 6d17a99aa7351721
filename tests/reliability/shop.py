"""The client side of the reliability tests: customers with funded accounts placing orders.

A `Workload` is deterministic (seeded): customers with opening balances that cover some of
their orders and not others, so every run ends with both CONFIRMED and CANCELLED orders. The
helpers talk to the services only over HTTP, except `wait_until_settled`, which watches the
databases until every order is final and both outboxes are drained - bounded, so a lost
message fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from billing_service import consumers as billing_consumers
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only
from deploy.cluster import Cluster
from ordering_service import consumers as ordering_consumers
from tests.reliability.invariants import (
    MERCHANT,
    UNFINISHED_OUTBOX,
    State,
    check_invariants,
    read_state,
)
from tests.tokens import auth_headers

PRICES = ("4.50", "9.99", "12.00", "25.00")

MakeCluster = Callable[..., Cluster]
"""The ``make_cluster`` fixture: ``make_cluster(amqp_url, database_urls=None, **kwargs)``."""


@dataclass(frozen=True)
class Workload:
    balances: dict[str, Decimal]
    """Each customer's opening balance."""
    orders: list[dict[str, Any]]
    """``POST /orders`` bodies."""

    @property
    def opening_balances(self) -> dict[str, Decimal]:
        """Every account the invariants expect, the merchant's (opened empty) included."""
        return {**self.balances, MERCHANT: Decimal("0")}


def workload(orders: int, customers: int, *, balance: str = "150", seed: int = 7) -> Workload:
    """``orders`` orders over ``customers`` customers; a customer's balance covers a few."""
    rng = random.Random(seed)
    names = [f"customer-{n:03d}" for n in range(customers)]
    bodies = [
        {
            "customer_id": rng.choice(names),
            "items": [
                {
                    "sku": f"SKU-{rng.randrange(50)}",
                    "quantity": rng.randint(1, 3),
                    "unit_price": rng.choice(PRICES),
                }
            ],
        }
        for _ in range(orders)
    ]
    return Workload({name: Decimal(balance) for name in names}, bodies)


async def open_accounts(billing_url: str, balances: dict[str, Decimal]) -> None:
    async with httpx.AsyncClient(
        base_url=billing_url, timeout=30, headers=auth_headers()
    ) as client:
        for account_id, balance in balances.items():
            response = await client.post(
                "/accounts", json={"account_id": account_id, "balance": str(balance)}
            )
            assert response.status_code == 201, response.text


async def place_orders(
    ordering_urls: Sequence[str], bodies: Sequence[dict[str, Any]], *, concurrency: int = 16
) -> list[str]:
    """Place every order (spread over the replicas' URLs), ``concurrency`` at a time."""
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=auth_headers()) as client:

        async def place(index: int, body: dict[str, Any]) -> str:
            async with slots:
                url = ordering_urls[index % len(ordering_urls)]
                response = await client.post(f"{url}/orders", json=body)
                assert response.status_code == 201, response.text
                return str(response.json()["order_id"])

        return list(await asyncio.gather(*(place(i, b) for i, b in enumerate(bodies))))


@dataclass(frozen=True)
class Progress:
    orders: int
    pending: int
    unfinished_outbox: int
    unconsumed: int = 0
    """Integration messages sent (published outbox rows) that the other side has not processed
    yet (no inbox row). With the payment deadline an order can be final - cancelled, timed
    out - while billing still has its OrderCreated to handle: settled means both are done."""

    def settled(self, expected_orders: int | None) -> bool:
        enough = expected_orders is None or self.orders == expected_orders
        quiet = self.unfinished_outbox == 0 and self.unconsumed == 0
        return enough and self.pending == 0 and quiet


async def progress(ordering_db: str, billing_db: str) -> Progress:
    ordering, billing = create_engine(ordering_db), create_engine(billing_db)
    try:
        async with read_only(ordering).connect() as connection:
            orders = (await connection.execute(text("SELECT COUNT(*) FROM orders"))).scalar_one()
            pending = (
                await connection.execute(
                    text("SELECT COUNT(*) FROM orders WHERE status = 'PENDING'")
                )
            ).scalar_one()
            unfinished = await _unfinished(connection)
            to_billing = await _sent(connection, BILLING_TOPICS)
            from_billing = await _processed(connection, ORDERING_QUEUES)
        async with read_only(billing).connect() as connection:
            unfinished += await _unfinished(connection)
            to_ordering = await _sent(connection, ORDERING_TOPICS)
            from_ordering = await _processed(connection, BILLING_QUEUES)
    finally:
        await ordering.dispose()
        await billing.dispose()
    unconsumed = max(to_billing - from_ordering, 0) + max(to_ordering - from_billing, 0)
    return Progress(orders, pending, unfinished, unconsumed)


BILLING_TOPICS = (*billing_consumers.TOPICS, *billing_consumers.CANCELLATION_TOPICS)
BILLING_QUEUES = (billing_consumers.QUEUE_NAME, billing_consumers.CANCELLATIONS_QUEUE)
ORDERING_TOPICS = ordering_consumers.TOPICS
ORDERING_QUEUES = (ordering_consumers.QUEUE_NAME,)


async def _sent(connection: Any, topics: Sequence[str]) -> int:
    query = text("SELECT topic, COUNT(*) AS n FROM cqrs_outbox GROUP BY topic")
    return sum(int(row.n) for row in await connection.execute(query) if row.topic in topics)


async def _processed(connection: Any, consumers: Sequence[str]) -> int:
    query = text("SELECT consumer, COUNT(*) AS n FROM cqrs_inbox GROUP BY consumer")
    return sum(int(row.n) for row in await connection.execute(query) if row.consumer in consumers)


async def wait_until_settled(
    ordering_db: str, billing_db: str, *, expected_orders: int | None, timeout: float
) -> Progress:
    """Poll until every order is final and both outboxes drained; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        now = await progress(ordering_db, billing_db)
        if now.settled(expected_orders):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not settled within {timeout}s: {now} (expected {expected_orders} orders)"
            )
        await asyncio.sleep(0.25)


def settle_and_check(
    cluster: Cluster,
    amqp_url: str,
    opening_balances: dict[str, Decimal],
    *,
    expected_orders: int | None,
    timeout: float,
    poison: dict[str, set[str]] | None = None,
) -> State:
    """Wait until everything settled, then check every invariant; the state, for more checks.

    ``amqp_url`` is the broker as the test sees it (not through a proxy).
    """
    ordering_db, billing_db = cluster.database_urls["ordering"], cluster.database_urls["billing"]
    asyncio.run(
        wait_until_settled(
            ordering_db, billing_db, expected_orders=expected_orders, timeout=timeout
        )
    )
    state = asyncio.run(read_state(ordering_db, billing_db, amqp_url))
    check_invariants(state, opening_balances, poison=poison)
    return state


async def _unfinished(connection: Any) -> int:
    query = text(f"SELECT COUNT(*) FROM cqrs_outbox WHERE {UNFINISHED_OUTBOX}")
    return int((await connection.execute(query)).scalar_one())
