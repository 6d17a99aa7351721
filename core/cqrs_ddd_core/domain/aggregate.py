"""`AggregateRoot`: the consistency boundary that records what happened to it.

An aggregate changes its state and *records* events (`add_event`); it never publishes them.
The handler takes them with `clear_events()` and returns them in its `CommandResponse`, so
the mediator decides when they leave - only with a successful commit.
``version`` is the optimistic concurrency token the repositories check on save.
"""

from __future__ import annotations

from cqrs_ddd_core.domain.events import DomainEvent


# --8<-- [start:aggregate]
class AggregateRoot:
    """Base class of aggregates: an ``id``, a ``version`` and pending events."""

    def __init__(self, id: str, version: int = 0) -> None:
        self.id = id
        self.version = version
        self._pending_events: list[DomainEvent] = []

    def add_event(self, event: DomainEvent) -> None:
        """Record an event; it stays pending until `clear_events` hands it over."""
        self._pending_events.append(event)

    def clear_events(self) -> list[DomainEvent]:
        """Return the pending events and forget them (each event is handed over once)."""
        events, self._pending_events = self._pending_events, []
        return events

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """The events recorded and not yet handed over (read-only view)."""
        return tuple(self._pending_events)
