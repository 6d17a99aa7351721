"""`@route_to`: an event class names its destination, not its publisher.

``@route_to("integration")`` sets ``__route_to__`` on the class; `TopicRoutingPublisher` maps
destination names to publishers. The one thing to notice: the domain code only says *what kind*
of audience an event has - which broker or outbox serves it is wired in one place, bootstrap.
Scenarios: features/core/routing.feature.
Guide: docs/components/publishers.md, docs/patterns/routing.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", bound=type[Any])


def route_to(destination_key: str) -> Callable[[T], T]:
    """Decorator to mark an event class for a routing destination (inherited by subclasses)."""
    if not destination_key:
        raise ValueError("route_to needs a destination name, e.g. @route_to('integration')")

    def mark(cls: T) -> T:
        cls.__route_to__ = destination_key
        return cls

    return mark


def destination_of(message: Any) -> str | None:
    """The ``@route_to`` destination of a message (or of a message class), if any."""
    cls = message if isinstance(message, type) else type(message)
    destination = getattr(cls, "__route_to__", None)
    return destination if isinstance(destination, str) else None
