"""Section 10: a payment deadline - billing never answers in time, and compensation.

Billing stops consuming (its queues keep what arrives). cyd orders; ordering's payment deadline
(a row written with the order) falls due - the demo moves ordering's clock 31 seconds instead of
waiting - and the scheduler cancels the order "Payment timed out". Billing comes back, hears of
the cancellation first, and never charges. Then the race the other way round: billing takes a
second order before it hears of its cancellation, ordering answers the late `PaymentCaptured`
with `RefundRequested`, and billing refunds it. The thing to notice: cyd's balance ends where it
started both times, and the merchant's too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service.consumers import CANCELLATIONS_QUEUE
from billing_service.consumers import QUEUE_NAME as ORDERS_QUEUE
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from demo.narration import Narrator
from demo.sections.common import MERCHANT, balance_of, wait_for_status, wait_until
from demo.sections.story import Story
from demo.stack import Stack

CUSTOMER = "cyd"
OPENING = Decimal("100.00")
PASSED = 31.0
"""Seconds the demo moves ordering's clock: one more than ``PAYMENT_TIMEOUT_SECONDS``."""


async def payment_deadline(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        10,
        "deadline",
        "A payment deadline: billing too late, nothing charged in the end",
        code=[
            "ordering_service/application/payment_process.py",
            "core/cqrs_ddd_core/deadlines/scheduler.py",
            "billing_service/application/command_handlers.py (refund)",
        ],
        scenario="features/cross_context/payment_deadline.feature",
        story=(
            "Billing stops consuming; cyd orders. The order's payment deadline is a row written "
            "with it; the demo moves ordering's clock 31 s and the scheduler cancels the order. "
            "Billing comes back, hears of the cancellation first and charges nothing. Then the "
            "race the other way: billing charges a second order just before its cancellation "
            "reaches it, and refunds it when ordering asks."
        ),
    )
    reply = await stack.billing_http.post(
        "/accounts", json={"account_id": CUSTOMER, "balance": str(OPENING)}
    )
    reply.raise_for_status()
    merchant = await balance_of(stack, MERCHANT)

    # 1. Billing down longer than the deadline: cancelled, never charged.
    await _billing_down(stack)
    first = await _order_times_out(narrator, stack)
    with narrator.waiting("billing comes back: first the cancellations, then the new orders"):
        # One message waits on each queue: this order's OrderCancelled and its OrderCreated.
        cancellations = await _consume(stack, CANCELLATIONS_QUEUE)
        handled = cancellations.processed
        await wait_until(lambda: cancellations.processed > handled)
        orders = await _consume(stack, ORDERS_QUEUE)
        handled = orders.processed
        await wait_until(lambda: orders.processed > handled)
    invoices = await _invoices(stack, first["order_id"])
    narrator.evidence(
        "the first order",
        [
            ("status", first["status"]),
            ("cancellation_reason", str(first["cancellation_reason"])),
            ("invoices", str(len(invoices))),
            ("cyd's balance", str(await balance_of(stack, CUSTOMER))),
        ],
    )
    narrator.check(
        first["status"] == "CANCELLED" and "timed out" in str(first["cancellation_reason"]),
        "the deadline cancelled the order, saying the payment timed out",
    )
    narrator.check(invoices == [], "billing heard of the cancellation first and charged nothing")

    # 2. The race the other way round: charged, then refunded once.
    await _billing_down(stack)
    second = await _order_times_out(narrator, stack)
    orders = await _consume(stack, ORDERS_QUEUE)
    with narrator.waiting("billing comes back: it takes the order before the cancellation"):
        await wait_until(lambda: _status_is(stack, second["order_id"], "PAID"))
        await _consume(stack, CANCELLATIONS_QUEUE)
        await wait_until(lambda: _status_is(stack, second["order_id"], "REFUNDED"))
    refund_requests = stack.tap.find("RefundRequested", order_id=second["order_id"])
    narrator.evidence(
        "the second order",
        [
            ("status", (await _order(stack, second["order_id"]))["status"]),
            ("invoice", "REFUNDED"),
            ("RefundRequested messages", str(len(refund_requests))),
            ("cyd's balance", str(await balance_of(stack, CUSTOMER))),
            ("merchant received", str(await balance_of(stack, MERCHANT) - merchant)),
        ],
    )
    narrator.check(len(refund_requests) == 1, "ordering asked for the late payment back, once")
    narrator.check(
        await balance_of(stack, CUSTOMER) == OPENING
        and await balance_of(stack, MERCHANT) == merchant,
        "cyd's and the merchant's balances are back where they started",
    )


async def _order_times_out(narrator: Narrator, stack: Stack) -> dict[str, Any]:
    """cyd orders while billing is down; 31 s later (on ordering's clock) it is cancelled."""
    item = {"sku": "lamp", "quantity": 1, "unit_price": "30.00"}
    reply = await stack.ordering_http.post(
        "/orders", json={"customer_id": CUSTOMER, "items": [item]}
    )
    reply.raise_for_status()
    order_id = str(reply.json()["order_id"])
    stack.clock.advance(PASSED)
    for worker in stack.ordering.workers:
        if isinstance(worker, DeadlineScheduler):
            worker.wake()
    with narrator.waiting("31 seconds later (ordering's clock): the deadline fires"):
        await wait_for_status(stack, order_id, {"CANCELLED"})
    return await _order(stack, order_id)


async def _billing_down(stack: Stack) -> None:
    for consumer in stack.billing.consumers:
        await consumer.stop()


async def _consume(stack: Stack, queue: str) -> BaseEventConsumer:
    [consumer] = [c for c in stack.billing.consumers if c.queue_name == queue]
    await consumer.start()
    return consumer


async def _order(stack: Stack, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await stack.ordering_http.get(f"/orders/{order_id}")).json()
    return order


async def _invoices(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    reply = await stack.billing_http.get("/invoices", params={"order_id": order_id})
    invoices: list[dict[str, Any]] = reply.json()
    return invoices


async def _status_is(stack: Stack, order_id: str, status: str) -> bool:
    return [i["status"] for i in await _invoices(stack, order_id)] == [status]
