"""`OutboxMiddleware`: a command's events are written to the outbox in the command's transaction.

After the handler returns a *successful* `CommandResponse`, each event is published under its
type name (``OrderCreated``) to the given publisher, inside the command's unit of work. With a
`BufferedOutbox` that means an outbox row staged in the same transaction as the aggregate: both
commit, or - on an exception, a ``success=False`` response or a failed commit - neither does.
The events of a rolled-back command never leave.

Routing: given a router instead - a `RouteTable` or a `TopicRoutingPublisher` - each event goes
where its route says (``integration`` -> the outbox in front of the broker, ``notifications``
-> the same outbox under ``notifications.*``, ...) and an event the router does not `accepts`
is skipped here: it stays in-process, for the handlers the mediator's dispatcher calls once the
pipeline has returned. The middleware asks the publisher, whatever its class; a plain outbox
accepts everything. Every destination reached this way is called inside the transaction, so
each must be transactional itself.
Scenarios: features/core/outbox.feature, features/core/routing.feature.
Guide: docs/components/outbox.md, docs/patterns/routing.md.
"""

from __future__ import annotations

from typing import Any

from cqrs_ddd_core.cqrs.publishers.handler import PublishingEventHandler
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.middleware.registry import Next
from cqrs_ddd_core.ports.messaging import IMessagePublisher


class OutboxMiddleware:
    """Hands every event of a successful command to ``outbox`` (or to the route it has)."""

    def __init__(self, outbox: IMessagePublisher) -> None:
        self.outbox = outbox
        self._publish = PublishingEventHandler(outbox)  # one event -> one publish, with its ids

    async def __call__(self, message: Any, next: Next) -> Any:
        response = await next(message)
        if not isinstance(response, CommandResponse) or not response.success:
            return response
        for event in response.events:
            if self.outbox.accepts(event.type_name(), event):
                await self._publish.handle(event)
            # else no route: an in-process event only
        return response
