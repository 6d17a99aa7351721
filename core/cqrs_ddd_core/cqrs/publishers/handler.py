"""`PublishingEventHandler`: the bridge from the in-process dispatcher to a publisher.

Register it on an `EventDispatcher` for the event types that should leave the process; each
event is published under its type name with its correlation and causation ids. The thing to
notice: it publishes *while the command is being handled*, so give it a transactional publisher
(a `BufferedOutbox`, or a router in front of one) - never the broker itself, or the events of a
command that later rolls back would already be out.
Scenarios: features/core/routing.feature.
Guide: docs/components/publishers.md, docs/patterns/routing.md.
"""

from __future__ import annotations

from cqrs_ddd_core.cqrs.handler import EventHandler
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.messaging import IMessagePublisher


class PublishingEventHandler(EventHandler[DomainEvent]):
    """Generic handler that publishes each event it receives to ``publisher``."""

    def __init__(self, publisher: IMessagePublisher) -> None:
        self.publisher = publisher

    async def handle(self, event: DomainEvent) -> None:
        await self.publisher.publish(
            event.type_name(),
            event,
            message_id=event.event_id,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
        )
