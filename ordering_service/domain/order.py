"""`Order`: the aggregate that owns an order's lifecycle.

PENDING -> CONFIRMED -> SHIPPED, or PENDING -> CANCELLED. A payment that arrives for an order
cancelled meanwhile (its deadline passed first) is not refused - the money is already taken -
but recorded, and answered with `RefundRequested` (once). Every transition is a method that
checks the rule, changes the state and *records* an event; an illegal transition raises a
`DomainError` saying why, and changes nothing. Repeating the transition the order already made
(a payment confirmed twice) is accepted and records nothing, so redelivered messages are harmless.
Scenarios: features/ordering/*.feature. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.ids import new_id
from ordering_service.domain.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
    RefundRequested,
)
from ordering_service.domain.order_line import OrderLine


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class Order(AggregateRoot):
    """An order of one customer: its lines, its status and what it is waiting for."""

    def __init__(
        self,
        id: str,
        customer_id: str,
        lines: Iterable[OrderLine],
        status: OrderStatus = OrderStatus.PENDING,
        *,
        payment_id: str | None = None,
        shipment_id: str | None = None,
        cancellation_reason: str | None = None,
        version: int = 0,
    ) -> None:
        super().__init__(id, version)
        self.customer_id = customer_id
        self.lines = tuple(lines)
        self.status = status
        self.payment_id = payment_id
        self.shipment_id = shipment_id
        self.cancellation_reason = cancellation_reason

    @classmethod
    def place(cls, customer_id: str, lines: Iterable[OrderLine]) -> Order:
        """A new PENDING order; records `OrderCreated`."""
        lines = tuple(lines)
        if not customer_id.strip():
            raise DomainError("An order needs a customer_id")
        if not lines:
            raise DomainError("An order needs at least one line")
        order = cls(new_id(), customer_id, lines)
        order.add_event(
            OrderCreated(
                aggregate_id=order.id,
                order_id=order.id,
                customer_id=customer_id,
                total=order.total,
                items=lines,
            )
        )
        return order

    @property
    def total(self) -> Decimal:
        return sum((line.subtotal for line in self.lines), Decimal("0.00"))

    def confirm(self, payment_id: str) -> None:
        """PENDING -> CONFIRMED once the payment is captured."""
        if self.payment_id == payment_id and self.status in _PAID:
            return  # the same payment again, even after shipping: already done
        self._require(OrderStatus.PENDING, "confirm")
        self.status = OrderStatus.CONFIRMED
        self.payment_id = payment_id
        self.add_event(
            OrderConfirmed(
                aggregate_id=self.id,
                order_id=self.id,
                customer_id=self.customer_id,
                total=self.total,
                payment_id=payment_id,
            )
        )

    def payment_captured(self, payment_id: str) -> None:
        """Billing took the money: confirm a PENDING order, or ask a CANCELLED one's refund."""
        if self.status is OrderStatus.CANCELLED:
            self.request_refund(payment_id)
        else:
            self.confirm(payment_id)

    def request_refund(self, payment_id: str) -> None:
        """CANCELLED, and paid after all: record the payment and ask for it back, once."""
        if self.payment_id == payment_id:
            return  # asked already
        self._require(OrderStatus.CANCELLED, "refund")
        self.payment_id = payment_id
        self.add_event(
            RefundRequested(
                aggregate_id=self.id,
                order_id=self.id,
                customer_id=self.customer_id,
                payment_id=payment_id,
            )
        )

    def payment_timed_out(self, reason: str) -> bool:
        """The payment deadline passed: cancel a PENDING order; any other is past waiting.

        Whether it cancelled: a deadline that fires after the payment changes nothing.
        """
        if self.status is not OrderStatus.PENDING:
            return False
        self.cancel(reason)
        return True

    def cancel(self, reason: str) -> None:
        """PENDING -> CANCELLED (the payment failed); a paid order is never cancelled here."""
        if self.status is OrderStatus.CANCELLED:
            return
        self._require(OrderStatus.PENDING, "cancel")
        self.status = OrderStatus.CANCELLED
        self.cancellation_reason = reason
        self.add_event(
            OrderCancelled(
                aggregate_id=self.id, order_id=self.id, customer_id=self.customer_id, reason=reason
            )
        )

    def ship(self, shipment_id: str) -> None:
        """CONFIRMED -> SHIPPED: only a paid order leaves the warehouse."""
        self._require(OrderStatus.CONFIRMED, "ship")
        self.status = OrderStatus.SHIPPED
        self.shipment_id = shipment_id
        self.add_event(
            OrderShipped(aggregate_id=self.id, order_id=self.id, shipment_id=shipment_id)
        )

    def _require(self, expected: OrderStatus, action: str) -> None:
        if self.status is not expected:
            raise DomainError(
                f"Cannot {action} order {self.id!r}: it is {self.status.value}, and only a "
                f"{expected.value} order can be {_past(action)}"
            )


_PAID = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
"""The states an order reaches only once paid."""


def _past(action: str) -> str:
    return {
        "confirm": "confirmed",
        "cancel": "cancelled",
        "ship": "shipped",
        "refund": "refunded",
    }[action]
