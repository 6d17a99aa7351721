"""The ordering events billing consumes - billing's *own* model of them.

The services share no code: ordering's classes are not imported here. Billing declares only
the fields it needs (the order, the customer, the total...) and ignores the rest of the
payload, such as the items. Ids and text are held to the rules of billing's own commands, so a
message carrying an id no account could have is poison, dead-lettered at once.
Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent, MessageId
from cqrs_ddd_core.primitives.text import STORABLE_TEXT


class OrderCreated(DomainEvent):
    """A customer placed ``order_id`` for ``total``: billing invoices it and takes the money."""

    order_id: MessageId
    customer_id: MessageId
    total: Decimal


class OrderCancelled(DomainEvent):
    """Ordering cancelled ``order_id`` (its payment timed out, or failed): never charge it."""

    order_id: MessageId
    customer_id: MessageId
    reason: str = Field(max_length=1000, pattern=STORABLE_TEXT)


class RefundRequested(DomainEvent):
    """The payment ``payment_id`` reached a cancelled order: billing gives the money back."""

    order_id: MessageId
    customer_id: MessageId
    payment_id: MessageId


def integration_event_registry() -> EventTypeRegistry:
    """The event types billing's consumer understands, by the name they travel under."""
    registry = EventTypeRegistry()
    registry.register("OrderCreated", OrderCreated)
    registry.register("OrderCancelled", OrderCancelled)
    registry.register("RefundRequested", RefundRequested)
    return registry
