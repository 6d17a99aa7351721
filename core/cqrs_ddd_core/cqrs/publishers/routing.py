"""`TopicRoutingPublisher`: one publisher in front of many, choosing per message.

Resolution order, first match wins: the message class's ``@route_to`` destination -> an
explicit route for the topic -> the default publisher. The one thing to notice: a message that
matches nothing raises `UnroutableMessageError` instead of vanishing, and so does a class marked
for a destination this router was not given - a wiring mistake must be loud.
`OutboxMiddleware` asks `accepts` first and keeps unrouted events in-process.
Scenarios: features/core/routing.feature.
Guide: docs/components/publishers.md, docs/patterns/routing.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cqrs_ddd_core.cqrs.publishers.decorators import destination_of
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.primitives.exceptions import PublishError, UnroutableMessageError


class UnknownDestinationError(UnroutableMessageError):
    """A message class is marked ``@route_to(key)`` and the router has no ``key`` destination."""

    def __init__(self, topic: str, destination: str, known: list[str]) -> None:
        self.topic = topic
        self.destination = destination
        PublishError.__init__(
            self,
            f"{topic!r} is marked @route_to({destination!r}) but the router has no "
            f"{destination!r} destination (it has {known or 'none'}); pass "
            f"destinations={{{destination!r}: publisher}} to TopicRoutingPublisher",
        )


class TopicRoutingPublisher(IMessagePublisher):
    """Routes messages to different publishers based on their class and topic."""

    def __init__(
        self,
        routes: Mapping[str, IMessagePublisher] | None = None,
        destinations: Mapping[str, IMessagePublisher] | None = None,
        default: IMessagePublisher | None = None,
    ) -> None:
        self.routes: dict[str, IMessagePublisher] = dict(routes or {})
        self.destinations: dict[str, IMessagePublisher] = dict(destinations or {})
        self.default = default

    def register_route(self, topic: str, publisher: IMessagePublisher) -> None:
        """Send messages published under ``topic`` to ``publisher``."""
        self.routes[topic] = publisher

    def register_destination(self, key: str, publisher: IMessagePublisher) -> None:
        """Serve classes marked ``@route_to(key)`` with ``publisher``."""
        self.destinations[key] = publisher

    def resolve(self, topic: str, message: Any = None) -> IMessagePublisher | None:
        """The publisher for this message, or ``None`` when nothing matches."""
        destination = destination_of(message) if message is not None else None
        if destination is not None:
            publisher = self.destinations.get(destination)
            if publisher is None:
                raise UnknownDestinationError(topic, destination, sorted(self.destinations))
            return publisher
        return self.routes.get(topic, self.default)

    def accepts(self, topic: str, message: Any) -> bool:
        return self.resolve(topic, message) is not None

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        publisher = self.resolve(topic, message)
        if publisher is None:
            raise UnroutableMessageError(topic)
        await publisher.publish(topic, message, **kwargs)
