"""The payment deadline's compensation, one service at a time, on in-memory storage.

Ordering's `Order`: a deadline that fires after the payment changes nothing; a payment that
arrives after the cancellation asks for a refund, once. Billing: a cancellation it hears of
first means no charge; a refund runs the payment backwards, once, and only for a PAID invoice.
Scenarios with both services: features/cross_context/payment_deadline.feature.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_service.application.commands import (
    RecordOrderCancelledCommand,
    RefundPaymentCommand,
)
from billing_service.application.integration_events import OrderCancelled as OrderCancelledMessage
from billing_service.application.policies import RecordCancellationOnOrderCancelled
from billing_service.domain.events import PaymentRefunded
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError
from ordering_service.domain.events import OrderCancelled, RefundRequested
from ordering_service.domain.order import Order, OrderStatus
from ordering_service.domain.order_line import OrderLine
from tests.services.harness import Billing
from tests.services.test_billing_application import balance, invoices, of_type, open_accounts, pay


def pending_order() -> Order:
    order = Order.place("cust-1", [OrderLine("book", 2, Decimal("20.00"))])
    order.clear_events()
    return order


def test_a_deadline_firing_for_a_pending_order_cancels_it_saying_why() -> None:
    order = pending_order()

    assert order.payment_timed_out("Payment timed out")

    assert (order.status, order.cancellation_reason) == (OrderStatus.CANCELLED, "Payment timed out")
    [event] = order.clear_events()
    assert isinstance(event, OrderCancelled)


def test_a_deadline_firing_after_the_payment_changes_nothing() -> None:
    order = pending_order()
    order.payment_captured("pay-1")
    order.clear_events()

    assert not order.payment_timed_out("Payment timed out")

    assert order.status is OrderStatus.CONFIRMED
    assert order.clear_events() == []


def test_a_payment_repeated_after_shipping_changes_nothing() -> None:
    order = pending_order()
    order.payment_captured("pay-1")
    order.ship("ship-1")
    order.clear_events()

    order.payment_captured("pay-1")  # billing's PaymentCaptured, published a second time

    assert (order.status, order.payment_id) == (OrderStatus.SHIPPED, "pay-1")
    assert order.clear_events() == []


def test_a_payment_reaching_a_cancelled_order_asks_for_a_refund_once() -> None:
    order = pending_order()
    order.payment_timed_out("Payment timed out")
    order.clear_events()

    order.payment_captured("pay-1")
    order.payment_captured("pay-1")  # redelivered

    assert order.status is OrderStatus.CANCELLED
    [event] = order.clear_events()
    assert isinstance(event, RefundRequested)
    assert (event.order_id, event.customer_id, event.payment_id) == (order.id, "cust-1", "pay-1")


async def test_an_order_cancelled_before_billing_charged_it_is_never_charged(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    cancelled = RecordOrderCancelledCommand(
        order_id="order-1", customer_id="alice", reason="Payment timed out"
    )

    assert (await billing.mediator.send(cancelled)).result is True
    response = await billing.mediator.send(pay("order-1", "alice", "40.00"))

    assert response.result is None
    assert await invoices(billing, "order-1") == []
    assert await balance(billing, "alice") == Decimal("100")


async def test_a_refund_sends_the_payment_back_once_and_reads_refunded(billing: Billing) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    await billing.mediator.send(pay("order-1", "alice", "40.00"))
    refund = RefundPaymentCommand(
        order_id="order-1", customer_id="alice", merchant_account="merchant"
    )

    first = await billing.mediator.send(refund)
    again = await billing.mediator.send(refund)

    [refunded] = of_type(first.events, PaymentRefunded)
    assert refunded.refund_id == first.result
    assert again.result is None
    [invoice] = await invoices(billing, "order-1")
    assert invoice.status == "REFUNDED"
    assert await balance(billing, "alice") == Decimal("100")
    assert await balance(billing, "merchant") == Decimal("0")


async def test_a_cancellation_of_a_charged_order_leaves_the_refund_to_the_refund_request(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    await billing.mediator.send(pay("order-1", "alice", "40.00"))
    cancelled = RecordOrderCancelledCommand(
        order_id="order-1", customer_id="alice", reason="Payment timed out"
    )

    assert (await billing.mediator.send(cancelled)).result is False

    [invoice] = await invoices(billing, "order-1")
    assert invoice.status == "PAID"


async def test_a_cancellation_billing_can_never_record_goes_to_the_dead_letters(
    billing: Billing,
) -> None:
    # The message hydrates (an empty reason is text), but no command of billing takes it.
    event = OrderCancelledMessage(order_id="order-1", customer_id="alice", reason="")

    with pytest.raises(PoisonMessageError, match="OrderCancelled order-1 cannot be recorded"):
        await RecordCancellationOnOrderCancelled(billing.mediator).handle(event)
