"""The `Order` aggregate on its own: its rules, its transitions and the events it records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cqrs_ddd_core.primitives.exceptions import DomainError
from ordering_service.domain.events import OrderCancelled, OrderConfirmed, OrderCreated
from ordering_service.domain.order import Order, OrderStatus
from ordering_service.domain.order_line import OrderLine


def placed_order() -> Order:
    order = Order.place(
        "cust-1",
        [OrderLine("book", 3, Decimal("19.99")), OrderLine("pen", 1, Decimal("0.10"))],
    )
    order.clear_events()
    return order


def test_a_placed_order_is_pending_and_records_order_created_with_an_exact_total() -> None:
    order = Order.place("cust-1", [OrderLine("book", 3, Decimal("19.99"))])

    assert order.status is OrderStatus.PENDING
    assert order.total == Decimal("59.97")
    [event] = order.clear_events()
    assert isinstance(event, OrderCreated)
    assert (event.order_id, event.customer_id, event.total) == (
        order.id,
        "cust-1",
        Decimal("59.97"),
    )
    assert event.aggregate_id == order.id


def test_order_created_travels_as_json_with_decimal_strings_and_its_type_name() -> None:
    order = Order.place("cust-1", [OrderLine("book", 2, Decimal("0.10"))])
    payload = order.clear_events()[0].to_payload()

    assert payload["event_type"] == "OrderCreated"
    assert payload["total"] == "0.20"
    assert payload["items"] == [{"sku": "book", "quantity": 2, "unit_price": "0.10"}]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Order.place("cust-1", []), "at least one line"),
        (lambda: Order.place(" ", [OrderLine("a", 1, Decimal("1"))]), "customer_id"),
        (lambda: OrderLine("book", 0, Decimal("1")), "Quantity of 'book'"),
        (lambda: OrderLine("book", 1, Decimal("-1")), "cannot be negative"),
        (lambda: OrderLine("book", 1, Decimal("0.001")), "fractions of a cent"),
        (lambda: OrderLine("book", 1, Decimal("NaN")), "finite"),
        (lambda: OrderLine("book", 1, 0.1), "not a float"),  # type: ignore[arg-type]
        (lambda: OrderLine("", 1, Decimal("1")), "sku"),
    ],
)
def test_an_invalid_order_is_refused_with_a_reason(make: object, words: str) -> None:
    with pytest.raises(DomainError, match=words):
        make()  # type: ignore[operator]


def test_a_pending_order_is_confirmed_by_its_payment() -> None:
    order = placed_order()

    order.confirm("pay-1")

    assert order.status is OrderStatus.CONFIRMED
    [event] = order.clear_events()
    assert isinstance(event, OrderConfirmed)
    assert (event.payment_id, event.total) == ("pay-1", Decimal("60.07"))


def test_the_same_payment_confirming_twice_changes_nothing_the_second_time() -> None:
    order = placed_order()
    order.confirm("pay-1")
    order.clear_events()

    order.confirm("pay-1")

    assert order.status is OrderStatus.CONFIRMED
    assert order.clear_events() == []


def test_a_pending_order_is_cancelled_with_its_reason() -> None:
    order = placed_order()

    order.cancel("Insufficient funds")

    assert (order.status, order.cancellation_reason) == (
        OrderStatus.CANCELLED,
        "Insufficient funds",
    )
    [event] = order.clear_events()
    assert isinstance(event, OrderCancelled)
    assert event.reason == "Insufficient funds"


def test_a_confirmed_order_ships() -> None:
    order = placed_order()
    order.confirm("pay-1")

    order.ship("shipment-1")

    assert (order.status, order.shipment_id) == (OrderStatus.SHIPPED, "shipment-1")


@pytest.mark.parametrize(
    ("prepare", "action", "reason"),
    [
        (lambda o: None, lambda o: o.ship("s-1"), "Cannot ship order .*: it is PENDING"),
        (lambda o: o.cancel("no"), lambda o: o.confirm("p-1"), "Cannot confirm .* CANCELLED"),
        (lambda o: o.confirm("p-1"), lambda o: o.cancel("no"), "Cannot cancel .* CONFIRMED"),
        (lambda o: o.cancel("no"), lambda o: o.ship("s-1"), "Cannot ship .* CANCELLED"),
        (lambda o: o.confirm("p-1"), lambda o: o.confirm("p-2"), "Cannot confirm .* CONFIRMED"),
    ],
)
def test_an_illegal_transition_raises_with_a_reason_and_changes_nothing(
    prepare: object, action: object, reason: str
) -> None:
    order = placed_order()
    prepare(order)  # type: ignore[operator]
    order.clear_events()
    status_before = order.status

    with pytest.raises(DomainError, match=reason):
        action(order)  # type: ignore[operator]

    assert order.status is status_before
    assert order.clear_events() == []
