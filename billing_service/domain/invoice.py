"""`Invoice`: what an order costs the customer, and whether it was paid.

ISSUED -> PAID (records `PaymentCaptured`) or ISSUED -> FAILED (records `PaymentFailed` with
the reason); PAID -> REFUNDED (records `PaymentRefunded`) when ordering had cancelled the order
before the payment reached it - the compensation of a payment that came too late. A failed
payment is a business outcome, not an error: it is stored and published
like a success. Scenario: features/billing/payments.feature.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from billing_service.domain.events import (
    InvoiceIssued,
    PaymentCaptured,
    PaymentFailed,
    PaymentRefunded,
)
from billing_service.domain.money import to_money
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.ids import new_id


class InvoiceStatus(StrEnum):
    ISSUED = "ISSUED"
    PAID = "PAID"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class Invoice(AggregateRoot):
    """The invoice of one order."""

    def __init__(
        self,
        id: str,
        order_id: str,
        customer_id: str,
        amount: Decimal,
        status: InvoiceStatus = InvoiceStatus.ISSUED,
        *,
        payment_id: str | None = None,
        failure_reason: str | None = None,
        refund_id: str | None = None,
        version: int = 0,
    ) -> None:
        super().__init__(id, version)
        self.order_id = order_id
        self.customer_id = customer_id
        self.amount = amount
        self.status = status
        self.payment_id = payment_id
        self.failure_reason = failure_reason
        self.refund_id = refund_id

    @classmethod
    def issue(cls, order_id: str, customer_id: str, amount: Decimal) -> Invoice:
        value = to_money(amount)
        if value <= 0:
            raise DomainError(f"The invoice of order {order_id!r} must be positive, got {value}")
        invoice = cls(new_id(), order_id, customer_id, value)
        invoice.add_event(
            InvoiceIssued(
                aggregate_id=invoice.id,
                invoice_id=invoice.id,
                order_id=order_id,
                customer_id=customer_id,
                amount=value,
            )
        )
        return invoice

    def mark_paid(self, payment_id: str) -> None:
        """ISSUED -> PAID with the transfer that paid it; records `PaymentCaptured`."""
        self._require_issued("mark as paid")
        self.status = InvoiceStatus.PAID
        self.payment_id = payment_id
        self.add_event(
            PaymentCaptured(
                aggregate_id=self.id,
                payment_id=payment_id,
                invoice_id=self.id,
                order_id=self.order_id,
                customer_id=self.customer_id,
                amount=self.amount,
            )
        )

    def mark_failed(self, reason: str) -> None:
        """ISSUED -> FAILED for ``reason``; records `PaymentFailed`."""
        self._require_issued("mark as failed")
        self.status = InvoiceStatus.FAILED
        self.failure_reason = reason
        self.add_event(
            PaymentFailed(
                aggregate_id=self.id,
                invoice_id=self.id,
                order_id=self.order_id,
                customer_id=self.customer_id,
                amount=self.amount,
                reason=reason,
            )
        )

    def mark_refunded(self, refund_id: str) -> None:
        """PAID -> REFUNDED by the transfer ``refund_id`` back; records `PaymentRefunded`."""
        if self.status is not InvoiceStatus.PAID:
            raise DomainError(
                f"Cannot refund invoice {self.id!r} of order {self.order_id!r}: it is "
                f"{self.status.value}, and only a PAID invoice can be refunded"
            )
        self.status = InvoiceStatus.REFUNDED
        self.refund_id = refund_id
        self.add_event(
            PaymentRefunded(
                aggregate_id=self.id,
                invoice_id=self.id,
                order_id=self.order_id,
                customer_id=self.customer_id,
                amount=self.amount,
                refund_id=refund_id,
            )
        )

    def _require_issued(self, action: str) -> None:
        if self.status is not InvoiceStatus.ISSUED:
            raise DomainError(
                f"Cannot {action} invoice {self.id!r} of order {self.order_id!r}: it is "
                f"already {self.status.value}"
            )
