"""The billing events ordering consumes - ordering's *own* model of them.

The services share no code: billing's `PaymentCaptured` class is not imported here. What the
two agree on is the payload (its ``event_type`` name and fields); ordering declares the fields
it needs and ignores the rest - refusing ids and text no order could hold, so such a message is
poison rather than a retry - and `integration_event_registry()` is where the names are
registered for the consumer to hydrate. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent, MessageId
from cqrs_ddd_core.primitives.text import STORABLE_TEXT


class PaymentCaptured(DomainEvent):
    """Billing took the payment of ``order_id``."""

    payment_id: MessageId
    order_id: MessageId
    amount: Decimal


class PaymentFailed(DomainEvent):
    """Billing could not take the payment of ``order_id``, for ``reason``."""

    order_id: MessageId
    reason: str = Field(max_length=1000, pattern=STORABLE_TEXT)


def integration_event_registry() -> EventTypeRegistry:
    """The event types ordering's consumer understands, by the name they travel under."""
    registry = EventTypeRegistry()
    registry.register("PaymentCaptured", PaymentCaptured)
    registry.register("PaymentFailed", PaymentFailed)
    return registry
