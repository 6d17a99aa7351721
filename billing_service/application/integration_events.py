"""The ordering events billing consumes - billing's *own* model of them.

The services share no code: ordering's classes are not imported here. Billing declares only
the fields it needs (the order, the customer, the total...) and ignores the rest of the
payload, such as the items. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from decimal import Decimal

from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent


class OrderCreated(DomainEvent):
    """A customer placed ``order_id`` for ``total``: billing invoices it and takes the money."""

    order_id: str
    customer_id: str
    total: Decimal


class OrderCancelled(DomainEvent):
    """Ordering cancelled ``order_id`` (its payment timed out, or failed): never charge it."""

    order_id: str
    customer_id: str
    reason: str


class RefundRequested(DomainEvent):
    """The payment ``payment_id`` reached a cancelled order: billing gives the money back."""

    order_id: str
    customer_id: str
    payment_id: str


def integration_event_registry() -> EventTypeRegistry:
    """The event types billing's consumer understands, by the name they travel under."""
    registry = EventTypeRegistry()
    registry.register("OrderCreated", OrderCreated)
    registry.register("OrderCancelled", OrderCancelled)
    registry.register("RefundRequested", RefundRequested)
    return registry
