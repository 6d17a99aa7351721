"""Ordering's application layer through the real mediator, over in-memory storage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cqrs_ddd_core.primitives.exceptions import DomainError, NotFoundError
from ordering_service.application.commands import (
    CancelOrderCommand,
    CreateOrderCommand,
    OrderItem,
    RecordPaymentCommand,
    ShipOrderCommand,
)
from ordering_service.application.dtos import OrderDTO, OrderSummaryDTO
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.domain.events import OrderCreated, OrderShipped
from ordering_service.domain.order import OrderStatus
from tests.services.harness import Ordering, states


async def place(ordering: Ordering, customer: str = "alice", price: str = "10.00") -> str:
    command = CreateOrderCommand(
        customer_id=customer,
        items=[OrderItem(sku="book", quantity=2, unit_price=Decimal(price))],
    )
    response = await ordering.mediator.send(command)
    return response.result


async def test_placing_an_order_stores_it_and_its_summary_in_one_commit(ordering: Ordering) -> None:
    response = await ordering.mediator.send(
        CreateOrderCommand(
            customer_id="alice",
            items=[OrderItem(sku="book", quantity=3, unit_price=Decimal("19.99"))],
        )
    )

    assert states(ordering.units_of_work) == ["committed"]
    [event] = response.events
    assert isinstance(event, OrderCreated)
    assert event.correlation_id == response.correlation_id
    assert event.causation_id == response.causation_id
    order = (await ordering.mediator.send(GetOrderQuery(order_id=response.result))).result
    assert order == OrderDTO(
        order_id=response.result,
        customer_id="alice",
        status="PENDING",
        total=Decimal("59.97"),
        items=[{"sku": "book", "quantity": 3, "unit_price": Decimal("19.99")}],
    )
    [summary] = (await ordering.mediator.send(ListOrdersQuery(customer_id="alice"))).result
    assert summary == OrderSummaryDTO(
        order_id=response.result,
        customer_id="alice",
        status="PENDING",
        total=Decimal("59.97"),
        item_count=3,
        placed_at=summary.placed_at,
    )


async def test_an_unknown_order_is_not_found_by_its_id(ordering: Ordering) -> None:
    with pytest.raises(NotFoundError, match="'no-such-order'"):
        await ordering.mediator.send(GetOrderQuery(order_id="no-such-order"))


async def test_the_read_model_follows_confirmation_and_cancellation(ordering: Ordering) -> None:
    paid, unpaid = await place(ordering), await place(ordering)

    await ordering.mediator.send(RecordPaymentCommand(order_id=paid, payment_id="pay-1"))
    await ordering.mediator.send(CancelOrderCommand(order_id=unpaid, reason="Insufficient funds"))

    listed = (await ordering.mediator.send(ListOrdersQuery(customer_id="alice"))).result
    assert {(s.order_id, s.status) for s in listed} == {(paid, "CONFIRMED"), (unpaid, "CANCELLED")}
    cancelled = (await ordering.mediator.send(GetOrderQuery(order_id=unpaid))).result
    assert cancelled.cancellation_reason == "Insufficient funds"


async def test_list_orders_filters_by_customer_and_status_newest_first_within_the_limit(
    ordering: Ordering,
) -> None:
    alice = [await place(ordering, "alice") for _ in range(4)]
    await place(ordering, "bob")
    await ordering.mediator.send(RecordPaymentCommand(order_id=alice[0], payment_id="pay-1"))

    def ids(result: list[OrderSummaryDTO]) -> list[str]:
        return [s.order_id for s in result]

    send = ordering.mediator.send
    assert ids((await send(ListOrdersQuery(customer_id="alice"))).result) == alice[::-1]
    assert ids((await send(ListOrdersQuery(customer_id="alice", limit=2))).result) == [
        alice[3],
        alice[2],
    ]
    confirmed = ListOrdersQuery(status=OrderStatus.CONFIRMED)
    assert ids((await send(confirmed)).result) == [alice[0]]
    assert len((await send(ListOrdersQuery())).result) == 5


async def test_shipping_sends_a_nested_command_and_both_commit_once(ordering: Ordering) -> None:
    order_id = await place(ordering)
    await ordering.mediator.send(RecordPaymentCommand(order_id=order_id, payment_id="pay-1"))
    ordering.units_of_work.clear()

    response = await ordering.mediator.send(ShipOrderCommand(order_id=order_id))

    # One unit of work for the root and its nested command, committed once.
    assert states(ordering.units_of_work) == ["committed"]
    assert [type(e) for e in response.events] == [OrderShipped]
    shipment_id = response.result
    assert ordering.store.committed("Shipment", shipment_id) is not None
    shipped = (await ordering.mediator.send(GetOrderQuery(order_id=order_id))).result
    assert (shipped.status, shipped.shipment_id) == ("SHIPPED", shipment_id)


async def test_a_refused_shipment_leaves_no_shipment_behind(ordering: Ordering) -> None:
    order_id = await place(ordering)  # still PENDING: not paid

    with pytest.raises(DomainError, match="it is PENDING"):
        await ordering.mediator.send(ShipOrderCommand(order_id=order_id))

    assert ordering.store.keys("Shipment") == []
    assert states(ordering.units_of_work)[-1] == "rolled_back"
    still = (await ordering.mediator.send(GetOrderQuery(order_id=order_id))).result
    assert still.status == "PENDING"


async def test_a_command_that_fails_leaves_neither_order_nor_summary(ordering: Ordering) -> None:
    order_id = await place(ordering)
    await ordering.mediator.send(CancelOrderCommand(order_id=order_id, reason="no money"))

    with pytest.raises(DomainError, match="Cannot ship"):
        await ordering.mediator.send(ShipOrderCommand(order_id=order_id))

    [summary] = (await ordering.mediator.send(ListOrdersQuery())).result
    assert summary.status == "CANCELLED"
