"""The whole story, both services assembled by their own bootstrap, on real storage.

* SQLite: each service on a SQLite file of its own, one in-process broker (the embedded
  default).
* PostgreSQL and RabbitMQ (marked): each service on a database of its own, talking through
  RabbitMQ (on this test run's own virtual host) - the separate-processes deployment, here in
  one process.

Each proves the two outcomes: an order paid and confirmed, an order cancelled for
insufficient funds - with the money where it should be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import OpenAccountCommand
from billing_service.application.queries import GetAccountQuery
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.queries import GetOrderQuery
from tests.services.databases import empty_database

DEADLINE = 20.0


@dataclass
class Story:
    ordering: ServiceHost
    billing: ServiceHost


@pytest.fixture(
    params=[
        "sqlite+memory-broker",
        pytest.param("postgres+rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq]),
    ]
)
def infrastructure(request: pytest.FixtureRequest) -> tuple[str, str | None, str | None]:
    """(kind, PostgreSQL server URL, AMQP URL): session fixtures are set up here, outside a loop."""
    if request.param == "postgres+rabbitmq":
        postgres = str(request.getfixturevalue("postgres_url"))
        return "postgres", postgres, str(request.getfixturevalue("rabbitmq_url"))
    return "sqlite", None, None


@pytest.fixture
async def story(
    infrastructure: tuple[str, str | None, str | None], tmp_path: Path
) -> AsyncIterator[Story]:
    kind, postgres, amqp_url = infrastructure
    async with AsyncExitStack() as stack:
        (tmp_path / "ordering").mkdir()
        (tmp_path / "billing").mkdir()
        ordering_db = await stack.enter_async_context(
            empty_database(kind, postgres, tmp_path / "ordering")
        )
        billing_db = await stack.enter_async_context(
            empty_database(kind, postgres, tmp_path / "billing")
        )
        broker = InMemoryBroker() if amqp_url is None else None
        billing = billing_bootstrap.build(
            billing_bootstrap.BillingSettings(
                database_url=billing_db,
                amqp_url=amqp_url or "",
                outbox_poll_interval=0.2,
            ),
            broker=broker,
        )
        ordering = ordering_bootstrap.build(
            ordering_bootstrap.OrderingSettings(
                database_url=ordering_db,
                amqp_url=amqp_url or "",
                outbox_poll_interval=0.2,
            ),
            broker=broker,
        )
        await billing.start()
        stack.push_async_callback(billing.stop)
        await ordering.start()
        stack.push_async_callback(ordering.stop)
        if broker is not None:
            stack.push_async_callback(broker.stop)
        yield Story(ordering, billing)


async def place_and_wait(story: Story, customer: str, total: str, status: str) -> str:
    item = OrderItem(sku="book", quantity=1, unit_price=Decimal(total))
    order_id = (
        await story.ordering.mediator.send(CreateOrderCommand(customer_id=customer, items=[item]))
    ).result
    async with asyncio.timeout(DEADLINE):
        while True:
            order = (await story.ordering.mediator.send(GetOrderQuery(order_id=order_id))).result
            if order.status == status:
                return order_id
            await asyncio.sleep(0.05)


async def balance(story: Story, account_id: str) -> Decimal:
    return (
        await story.billing.mediator.send(GetAccountQuery(account_id=account_id))
    ).result.balance


async def test_an_order_is_paid_and_another_cancelled_across_both_services(story: Story) -> None:
    await story.billing.mediator.send(OpenAccountCommand(account_id="alice", balance=Decimal("50")))

    await place_and_wait(story, "alice", "30.00", "CONFIRMED")
    cancelled = await place_and_wait(story, "alice", "30.00", "CANCELLED")

    order = (await story.ordering.mediator.send(GetOrderQuery(order_id=cancelled))).result
    assert "Insufficient funds in account 'alice'" in (order.cancellation_reason or "")
    assert await balance(story, "alice") == Decimal("20.00")
    assert await balance(story, "merchant") == Decimal("30.00")
