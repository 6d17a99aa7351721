"""Ordering's domain events: what happened to an order, as plain facts.

The one thing to notice is what these classes do *not* say: where they go. An event knows
nothing of brokers, outboxes or customers; ordering's route table (bootstrap.py) sends
`OrderCreated`, `OrderCancelled` and `RefundRequested` to billing, tells the customer about
confirmations and cancellations, and keeps the rest in-process, where they update the order
summaries (the read model).
Guide: docs/patterns/routing.md.
"""

from __future__ import annotations

from decimal import Decimal

from cqrs_ddd_core.domain.events import DomainEvent
from ordering_service.domain.order_line import OrderLine


class OrderCreated(DomainEvent):
    """A customer placed an order; billing invoices it and takes the payment."""

    order_id: str
    customer_id: str
    total: Decimal
    items: tuple[OrderLine, ...]


class OrderConfirmed(DomainEvent):
    """The order's payment was captured."""

    order_id: str
    customer_id: str
    total: Decimal
    payment_id: str


class OrderCancelled(DomainEvent):
    """The order was cancelled, for ``reason`` (for example the payment failed)."""

    order_id: str
    customer_id: str
    reason: str


class RefundRequested(DomainEvent):
    """A payment arrived for an order cancelled meanwhile: billing must give it back."""

    order_id: str
    customer_id: str
    payment_id: str


class OrderShipped(DomainEvent):
    """The order left the warehouse as ``shipment_id``."""

    order_id: str
    shipment_id: str


class ShipmentCreated(DomainEvent):
    """A shipment was prepared for an order."""

    shipment_id: str
    order_id: str
