"""`EventTypeRegistry`: from an ``event_type`` name back to a typed `DomainEvent`.

Each service keeps its own registry (and its own classes) for the events it consumes: the
payload's name is the contract between services, never a shared Python class. An invalid
payload raises `MessageHydrationError` naming the fields - it never vanishes silently.
"""

from __future__ import annotations

from typing import Any

import pydantic

from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import MessageHydrationError, UnknownMessageTypeError


class EventTypeRegistry:
    """Maps event type names to `DomainEvent` subclasses."""

    def __init__(self) -> None:
        self._types: dict[str, type[DomainEvent]] = {}

    def register(self, name: str, event_class: type[DomainEvent]) -> None:
        """Register ``event_class`` under ``name``; re-registering another class is an error."""
        existing = self._types.get(name)
        if existing is not None and existing is not event_class:
            raise ValueError(
                f"Event type {name!r} is already registered to {existing.__qualname__}"
            )
        self._types[name] = event_class

    def get(self, name: str) -> type[DomainEvent] | None:
        return self._types.get(name)

    def has(self, name: str) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    # --8<-- [start:hydrate]
    def hydrate(self, name: str, data: dict[str, Any]) -> DomainEvent:
        """Build the registered event from ``data``; unknown names and bad fields raise."""
        event_class = self._types.get(name)
        if event_class is None:
            raise UnknownMessageTypeError(name, kind="event")
        fields = {key: value for key, value in data.items() if key != "event_type"}
        try:
            return event_class.model_validate(fields)
        except pydantic.ValidationError as exc:
            raise MessageHydrationError.from_pydantic(name, exc) from exc
