"""Steps shared by ordering's scenarios: ordering's real mediator over in-memory storage.

Billing is not running here: "billing reports ..." hands ordering the payload billing would
publish, hydrated through ordering's own event registry and given to ordering's policies -
exactly what the consumer does with a message from the broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.integration_events import integration_event_registry
from ordering_service.application.policies import (
    CancelOrderOnPaymentFailed,
    ConfirmOrderOnPaymentCaptured,
)
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
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
    """What ordering's consumer does with a message: hydrate by name, hand to the policy."""
    event = integration_event_registry().hydrate(payload["event_type"], payload)
    bus = story.ordering.mediator
    policy = (
        ConfirmOrderOnPaymentCaptured(bus)
        if payload["event_type"] == "PaymentCaptured"
        else CancelOrderOnPaymentFailed(bus)
    )
    run(policy.handle, event)


@when("billing reports the payment of the order captured")
def payment_captured(run: Run, story: Story) -> None:
    payload = {
        "event_type": "PaymentCaptured",
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
