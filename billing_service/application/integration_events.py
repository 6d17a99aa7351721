"""The ordering event billing consumes - billing's *own* model of it.

The services share no code: ordering's `OrderCreated` class is not imported here. Billing
declares only the fields it needs (the order, the customer, the total) and ignores the rest
of the payload, such as the items. Guide: docs/patterns/bounded-contexts.md.
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


def integration_event_registry() -> EventTypeRegistry:
    """The event types billing's consumer understands, by the name they travel under."""
    registry = EventTypeRegistry()
    registry.register("OrderCreated", OrderCreated)
    return registry
