"""`DomainEvent`: an immutable fact that something happened to an aggregate.

The one thing to notice: the serialised form always carries ``event_type`` (the name the
event is registered under), so a consumer in another process - or another service with its
own model of the event - can hydrate it through its `EventTypeRegistry`.
Guide: docs/components/event-dispatcher.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.text import ID_MAX_LENGTH, IDENTIFIER

MessageId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=IDENTIFIER)]
"""An id a message carries: stored in ``String(64)`` columns (inbox, outbox) and logged, so a
received event whose id is over-long or holds a control character is poison, not a retry."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --8<-- [start:event]
class DomainEvent(BaseModel):
    """Base class of all domain events.

    Subclasses add their own fields. ``event_type`` defaults to the class name; set the
    class variable ``__event_type__`` to publish under another name.
    """

    model_config = ConfigDict(frozen=True)

    __event_type__: ClassVar[str | None] = None

    event_id: MessageId = Field(default_factory=new_id)
    occurred_at: datetime = Field(default_factory=_utc_now)
    aggregate_id: MessageId | None = None
    correlation_id: MessageId | None = Field(default_factory=get_correlation_id)
    causation_id: MessageId | None = Field(default_factory=get_causation_id)
    version: int = 1
    """Schema version of this event type, so consumers can evolve with it."""

    @classmethod
    def type_name(cls) -> str:
        """The name this event type travels under."""
        return cls.__event_type__ or cls.__name__

    @property
    def event_type(self) -> str:
        return self.type_name()

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready form that leaves the process: every field plus ``event_type``."""
        payload = self.model_dump(mode="json")
        payload["event_type"] = self.type_name()
        return payload
