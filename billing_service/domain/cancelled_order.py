"""`CancelledOrder`: billing's note that an order must never be charged.

Messages do not arrive in the order they were sent when a service was down: ordering may
cancel an order (its payment deadline passed) and billing, coming back, may find the
`OrderCancelled` before - or handled before - the `OrderCreated` it cancels. Billing records
the cancellation as a fact of its own, keyed by the order, and `PayInvoiceHandler` looks for
it before it charges anything. Scenario: features/cross_context/payment_deadline.feature.
"""

from __future__ import annotations

from billing_service.domain.events import OrderCancellationRecorded
from cqrs_ddd_core.domain.aggregate import AggregateRoot


class CancelledOrder(AggregateRoot):
    """An order ordering cancelled before billing charged it (its id is the order id)."""

    def __init__(self, order_id: str, customer_id: str, reason: str, *, version: int = 0) -> None:
        super().__init__(order_id, version)
        self.customer_id = customer_id
        self.reason = reason

    @classmethod
    def record(cls, order_id: str, customer_id: str, reason: str) -> CancelledOrder:
        cancelled = cls(order_id, customer_id, reason)
        cancelled.add_event(
            OrderCancellationRecorded(
                aggregate_id=order_id, order_id=order_id, customer_id=customer_id, reason=reason
            )
        )
        return cancelled
