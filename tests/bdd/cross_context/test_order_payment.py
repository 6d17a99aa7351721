"""Scenarios: features/cross_context/order_payment.feature.

Both services are assembled by their own `bootstrap.build` - exactly as `__main__` does - with
in-memory storage and one shared `InMemoryBroker`. The scenario's event loop lives for the
whole scenario, so the outbox relays and the consumers run in the background between steps,
and "eventually" steps poll with a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import OpenAccountCommand
from billing_service.application.dtos import InvoiceDTO
from billing_service.application.queries import GetAccountQuery, ListInvoicesQuery
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.dtos import OrderDTO
from ordering_service.application.queries import GetOrderQuery
from tests.conftest import Run

scenarios("cross_context/order_payment.feature")

DEADLINE = 5.0
"""Seconds an "eventually" step waits before it fails."""


@dataclass
class World:
    broker: InMemoryBroker
    ordering: ordering_bootstrap.OrderingService
    billing: billing_bootstrap.BillingService
    order_id: str = ""
    correlation_id: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


async def start_world() -> World:
    broker = InMemoryBroker(redelivery_delay=0.01)
    ordering = ordering_bootstrap.build(
        ordering_bootstrap.OrderingSettings(database_url="memory", outbox_poll_interval=0.05),
        broker=broker,
    )
    billing = billing_bootstrap.build(
        billing_bootstrap.BillingSettings(database_url="memory", outbox_poll_interval=0.05),
        broker=broker,
    )
    await billing.start()
    await ordering.start()
    return World(broker, ordering, billing)


async def stop_world(world: World) -> None:
    await world.ordering.stop()
    await world.billing.stop()
    await world.broker.stop()


@pytest.fixture
def world(run: Run) -> Iterator[World]:
    started: World = run(start_world)
    yield started
    run(stop_world, started)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(DEADLINE):
            while not await check():  # noqa: ASYNC110 - the state lives in two services
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {DEADLINE}s") from None


async def order_of(world: World) -> OrderDTO:
    return (await world.ordering.mediator.send(GetOrderQuery(order_id=world.order_id))).result


async def invoices_of(world: World) -> list[InvoiceDTO]:
    query = ListInvoicesQuery(order_id=world.order_id)
    return (await world.billing.mediator.send(query)).result


# --- steps ---------------------------------------------------------------------------------


@given("ordering and billing are running on one in-process broker")
def running(world: World) -> None:
    assert world.ordering.outbox.running
    assert world.billing.outbox.running


@given(parsers.parse('billing has account "{account_id}" with "{balance}"'))
def billing_account(run: Run, world: World, account_id: str, balance: str) -> None:
    command = OpenAccountCommand(account_id=account_id, balance=Decimal(balance))
    run(world.billing.mediator.send, command)


@when(parsers.parse('customer "{customer}" orders {quantity:d} "{sku}" at "{price}"'))
def customer_orders(
    run: Run, world: World, customer: str, quantity: int, sku: str, price: str
) -> None:
    command = CreateOrderCommand(
        customer_id=customer,
        items=[OrderItem(sku=sku, quantity=quantity, unit_price=Decimal(price))],
    )
    response = run(world.ordering.mediator.send, command)
    world.order_id, world.correlation_id = response.result, response.correlation_id


@given(
    parsers.parse(
        'customer "{customer}" ordered {quantity:d} "{sku}" at "{price}" and the order was '
        "confirmed"
    )
)
def order_confirmed(
    run: Run, world: World, customer: str, quantity: int, sku: str, price: str
) -> None:
    customer_orders(run, world, customer, quantity, sku, price)
    order_is_eventually(run, world, "CONFIRMED")


@then(parsers.parse("the order is eventually {status:w}"))
def order_is_eventually(run: Run, world: World, status: str) -> None:
    async def reached() -> bool:
        return (await order_of(world)).status == status

    run(eventually, reached, f"order {status}")


@then(parsers.parse('the order is eventually CANCELLED because "{reason}"'))
def order_cancelled_because(run: Run, world: World, reason: str) -> None:
    order_is_eventually(run, world, "CANCELLED")
    assert reason in (run(order_of, world).cancellation_reason or "")


@then(parsers.parse("billing has invoiced the order as {status:w}"))
def invoiced(run: Run, world: World, status: str) -> None:
    [invoice] = run(invoices_of, world)
    assert (invoice.status, invoice.amount) == (status, run(order_of, world).total)


@then("billing has exactly one invoice for the order")
def one_invoice(run: Run, world: World) -> None:
    assert len(run(invoices_of, world)) == 1


@then(parsers.parse('"{customer}" has "{balance}" and "{merchant}" has "{merchant_balance}"'))
def balances(
    run: Run, world: World, customer: str, balance: str, merchant: str, merchant_balance: str
) -> None:
    for account_id, expected in ((customer, balance), (merchant, merchant_balance)):
        query = GetAccountQuery(account_id=account_id)
        assert run(world.billing.mediator.send, query).result.balance == Decimal(expected)


@then(
    parsers.parse(
        'the notifications eventually include "{order_event}" and "{payment_event}" for the order'
    )
)
def notified(run: Run, world: World, order_event: str, payment_event: str) -> None:
    def sent(log: Any, event_type: str) -> bool:
        return any(
            n["event_type"] == event_type and n["order_id"] == world.order_id for n in log.received
        )

    async def both() -> bool:
        return sent(world.ordering.notifications, order_event) and sent(
            world.billing.notifications, payment_event
        )

    run(eventually, both, "notifications")


@then("every message of the story carries the order's correlation id")
def one_correlation_id(run: Run, world: World) -> None:
    run(world.broker.drain)
    story = [
        e for e in world.broker.published if json.loads(e.body).get("order_id") == world.order_id
    ]
    topics = {envelope.topic for envelope in story}
    assert {"OrderCreated", "PaymentCaptured", "notifications.OrderConfirmed"} <= topics
    assert {envelope.correlation_id for envelope in story} == {world.correlation_id}
    assert all(json.loads(e.body)["correlation_id"] == world.correlation_id for e in story)


@when("the broker delivers the order's OrderCreated message again")
def redeliver(run: Run, world: World) -> None:
    [original] = [e for e in world.broker.published if e.topic == "OrderCreated"]
    world.facts["duplicates_before"] = world.billing.consumer.duplicates

    async def publish_again() -> None:
        await world.broker.publish(
            original.topic,
            original.payload,
            message_id=original.message_id,
            correlation_id=original.correlation_id,
            causation_id=original.causation_id,
        )
        await world.broker.drain()

    run(publish_again)


@then("billing recognises the duplicate and acknowledges it without effect")
def duplicate_recognised(world: World) -> None:
    assert world.billing.consumer.duplicates == world.facts["duplicates_before"] + 1
    assert world.broker.dead_letters() == []
