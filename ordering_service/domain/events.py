"""Ordering's domain events, and where each one goes.

The one thing to notice is the routing written on the classes: `OrderCreated` leaves the
service (``@route_to("integration")``: outbox -> broker -> billing); confirmations and
cancellations go to the notifications destination; the rest stay in-process, where they keep
the order summaries (the read model) up to date. Guide: docs/patterns/routing.md.
"""

from __future__ import annotations

from decimal import Decimal

from cqrs_ddd_core.cqrs.publishers.decorators import route_to
from cqrs_ddd_core.domain.events import DomainEvent
from ordering_service.domain.order_line import OrderLine


@route_to("integration")
class OrderCreated(DomainEvent):
    """A customer placed an order; billing invoices it and takes the payment."""

    order_id: str
    customer_id: str
    total: Decimal
    items: tuple[OrderLine, ...]


@route_to("notifications")
class OrderConfirmed(DomainEvent):
    """The order's payment was captured."""

    order_id: str
    customer_id: str
    total: Decimal
    payment_id: str


@route_to("notifications")
class OrderCancelled(DomainEvent):
    """The order was cancelled, for ``reason`` (for example the payment failed)."""

    order_id: str
    customer_id: str
    reason: str


class OrderShipped(DomainEvent):
    """The order left the warehouse as ``shipment_id`` (in-process: updates the read model)."""

    order_id: str
    shipment_id: str


class ShipmentCreated(DomainEvent):
    """A shipment was prepared for an order (in-process)."""

    shipment_id: str
    order_id: str
