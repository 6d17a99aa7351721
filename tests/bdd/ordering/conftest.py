"""Steps shared by ordering's scenarios: ordering's real mediator over in-memory storage.

Billing is not running here: "billing reports ..." hands the payload billing would publish to
ordering's real consumer (`payment_results_consumer`), as the broker would: hydrated through
ordering's own event registry, dispatched to its payment process in a unit of work with its inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.primitives.ids import new_id
from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.consumers import payment_results_consumer
from ordering_service.infrastructure.memory import OrderingInMemoryUnitOfWork
from tests.conftest import Run
from tests.services.harness import Ordering, ordering_harness


@dataclass
class Story:
    ordering: Ordering = field(default_factory=ordering_harness)
    order_id: str = ""
    error: Exception | None = None


@pytest.fixture
def story() -> Story:
    return Story()


def place_order(run: Run, story: Story, customer: str, quantity: int, sku: str, price: str) -> None:
    command = CreateOrderCommand(
        customer_id=customer,
        items=[OrderItem(sku=sku, quantity=quantity, unit_price=Decimal(price))],
    )
    story.order_id = run(story.ordering.mediator.send, command).result


@when(parsers.parse('customer "{customer}" orders {quantity:d} "{sku}" at "{price}"'))
def customer_orders(
    run: Run, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    place_order(run, story, customer, quantity, sku, price)


@given(parsers.parse('customer "{customer}" placed an order of {quantity:d} "{sku}" at "{price}"'))
def customer_placed(
    run: Run, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    place_order(run, story, customer, quantity, sku, price)


def deliver(run: Run, story: Story, payload: dict[str, Any]) -> None:
    """Hand ``payload`` to ordering's own consumer, as a delivery from the broker."""
    store = story.ordering.store
    consumer = payment_results_consumer(
        InMemoryBroker(),  # never started: the payload is handed over directly
        story.ordering.mediator,
        uow_factory=lambda: OrderingInMemoryUnitOfWork(store),
        inbox=InMemoryInboxStorage(store),
    )
    run(consumer.handle, payload)


@when("billing reports the payment of the order captured")
def payment_captured(run: Run, story: Story) -> None:
    payload = {
        "event_type": "PaymentCaptured",
        "event_id": new_id(),  # each report is a message of its own
        "payment_id": f"payment-of-{story.order_id}",
        "invoice_id": "invoice-1",
        "order_id": story.order_id,
        "customer_id": "alice",
        "amount": "10.00",
    }
    deliver(run, story, payload)


@when(parsers.parse('billing reports the payment of the order failed because "{reason}"'))
def payment_failed(run: Run, story: Story, reason: str) -> None:
    payload = {
        "event_type": "PaymentFailed",
        "event_id": new_id(),
        "invoice_id": "invoice-1",
        "order_id": story.order_id,
        "customer_id": "alice",
        "amount": "10.00",
        "reason": reason,
    }
    deliver(run, story, payload)


@then(parsers.parse("the order is {status:w}"))
def order_is(run: Run, story: Story, status: str) -> None:
    order = run(story.ordering.mediator.send, GetOrderQuery(order_id=story.order_id)).result
    assert order.status == status


@then(parsers.parse('the order is {status:w} with a total of "{total}"'))
def order_is_with_total(run: Run, story: Story, status: str, total: str) -> None:
    order = run(story.ordering.mediator.send, GetOrderQuery(order_id=story.order_id)).result
    assert (order.status, order.total) == (status, Decimal(total))


@then(parsers.parse('the order is listed for customer "{customer}" as {status:w}'))
def order_listed(run: Run, story: Story, customer: str, status: str) -> None:
    listed = run(story.ordering.mediator.send, ListOrdersQuery(customer_id=customer)).result
    assert [(s.order_id, s.status) for s in listed] == [(story.order_id, status)]
