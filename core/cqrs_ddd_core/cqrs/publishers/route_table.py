"""`RouteTable`: where each event goes, in one table the composition root reads top to bottom.

A service lists its outgoing event types and names their destinations::

    ROUTES = {
        OrderCreated: [INTEGRATION],        # the outbox, then the broker: other services
        OrderConfirmed: [NOTIFICATIONS],    # the outbox under notifications.*: people
    }

An event type the table does not list stays in-process. The thing to notice: the domain's
events stay plain facts - who hears about them is decided here, next to the other wiring, and
an event may go to several destinations (billing's payment results go to ordering *and* to the
customer). `OutboxMiddleware` asks `accepts` and publishes the listed events in the command's
transaction. The class-side alternative, ``@route_to`` with `TopicRoutingPublisher`, stays
for code that prefers it; docs/patterns/routing.md says which to pick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cqrs_ddd_core.cqrs.publishers.notifications import NotificationsPublisher
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.primitives.exceptions import UnroutableMessageError

INTEGRATION = "integration"
"""For other services: through the outbox to the broker, under the event's type name."""
NOTIFICATIONS = "notifications"
"""For people: through the outbox to the broker, under ``notifications.<EventType>``."""

Routes = Mapping[type[DomainEvent], Sequence[str]]
"""Event type -> the names of its destinations."""


class RouteTable(IMessagePublisher):
    """Publishes each event to every destination its type is routed to."""

    def __init__(self, routes: Routes, destinations: Mapping[str, IMessagePublisher]) -> None:
        unknown = sorted({name for names in routes.values() for name in names} - set(destinations))
        if unknown:
            # A wiring mistake must be loud, and at start rather than at the first event.
            raise ValueError(f"routes name destinations nobody serves: {unknown}")
        self.routes = {event_type: tuple(names) for event_type, names in routes.items()}
        self.destinations = dict(destinations)

    @classmethod
    def through_outbox(cls, routes: Routes, outbox: IMessagePublisher) -> RouteTable:
        """The usual destinations: `INTEGRATION` to ``outbox``, `NOTIFICATIONS` to it under
        ``notifications.*`` - both written in the command's transaction."""
        return cls(routes, {INTEGRATION: outbox, NOTIFICATIONS: NotificationsPublisher(outbox)})

    def destinations_of(self, message: Any) -> tuple[str, ...]:
        """The destination names of ``message``'s type (or of its nearest routed base)."""
        for cls in type(message).__mro__:
            names = self.routes.get(cls)
            if names is not None:
                return names
        return ()

    def accepts(self, topic: str, message: Any) -> bool:
        return bool(self.destinations_of(message))

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        names = self.destinations_of(message)
        if not names:
            # The router's advice (@route_to, a default) would not help here: the table decides.
            raise UnroutableMessageError(topic, "list its event type in the route table")
        for name in names:
            await self.destinations[name].publish(topic, message, **kwargs)


def topics_routed_to(routes: Routes, destination: str) -> tuple[str, ...]:
    """The type names of the events ``routes`` sends to ``destination``."""
    return tuple(t.type_name() for t, names in routes.items() if destination in names)
