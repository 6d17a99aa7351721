"""The invariant check knows the payment deadline: a cancelled order is charged nothing in the end.

With the payment deadline an order may end CANCELLED with no invoice (billing heard of the
cancellation first), a FAILED one, or a REFUNDED one (billing charged, then gave it back) -
all fine. A cancelled order whose invoice still reads PAID is a customer charged for nothing,
and the check must name it. Built on states written by hand: the check is pure.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.reliability.invariants import MERCHANT, InvariantViolation, State, check_invariants

pytestmark = pytest.mark.reliability

OPENING = {"ada": Decimal("100.00"), MERCHANT: Decimal("0.00")}


def order(status: str) -> dict[str, Any]:
    return {"status": status, "customer_id": "ada", "total": Decimal("40.00"), "payment_id": None}


def outbox(*rows: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "message_id": f"{topic}-{order_id}",
            "topic": topic,
            "status": "published",
            "payload": {"order_id": order_id},
        }
        for topic, order_id in rows
    ]


def cancelled_state(invoice_status: str | None, balances: dict[str, Decimal]) -> State:
    invoices = (
        []
        if invoice_status is None
        else [
            {
                "order_id": "o1",
                "customer_id": "ada",
                "amount": "40.00",
                "status": invoice_status,
                "payment_id": "p1",
            }
        ]
    )
    billing_outbox = outbox(("PaymentCaptured", "o1")) if invoices else []
    refund = [("RefundRequested", "o1")] if invoice_status in ("PAID", "REFUNDED") else []
    ordering_outbox = outbox(
        ("OrderCreated", "o1"),
        ("OrderCancelled", "o1"),
        ("notifications.OrderCancelled", "o1"),
        *refund,
    )
    inbox = Counter(
        {
            "billing.orders": 1,
            "billing.cancellations": 1 + len(refund),
            "ordering.payments": len(billing_outbox),
        }
    )
    return State(
        {"o1": order("CANCELLED")}, invoices, balances, ordering_outbox, billing_outbox, inbox
    )


def test_a_cancelled_order_never_charged_or_refunded_holds() -> None:
    check_invariants(cancelled_state(None, dict(OPENING)), OPENING)
    check_invariants(cancelled_state("REFUNDED", dict(OPENING)), OPENING)


def test_a_cancelled_order_left_paid_is_named_as_charged_for_nothing() -> None:
    charged = {"ada": Decimal("60.00"), MERCHANT: Decimal("40.00")}

    with pytest.raises(InvariantViolation) as caught:
        check_invariants(cancelled_state("PAID", charged), OPENING)

    assert caught.value.problems == [
        "order o1 is CANCELLED but its invoice is PAID: its customer was charged for a "
        "cancelled order"
    ]


def test_a_confirmed_order_without_an_invoice_is_named() -> None:
    state = cancelled_state(None, dict(OPENING))
    state.orders["o1"]["status"] = "CONFIRMED"

    with pytest.raises(InvariantViolation) as caught:
        check_invariants(state, OPENING)

    assert "CONFIRMED order o1 has 0 invoices" in caught.value.problems
