"""`Command`: the intent to change state. Pure data - the logic lives in its handler.

A command is immutable. It gets its ``command_id`` at creation, and picks up the correlation
and causation ids of whatever is being handled when it is created, so a command sent from a
handler or an event handler is automatically part of the same story.
``get_critical_resources()`` is how a command asks for pessimistic locks.
Guide: docs/components/commands.md.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

TResult = TypeVar("TResult")


# --8<-- [start:command]
class Command(BaseModel, Generic[TResult]):
    """Base class of all commands; ``TResult`` is the type of ``response.result``."""

    model_config = ConfigDict(frozen=True)

    command_id: str = Field(default_factory=new_id)
    # Outside any story a command starts its own, named after itself: the mediator then never
    # has to copy the (frozen) command to give it one.
    correlation_id: str | None = Field(
        default_factory=lambda fields: get_correlation_id() or fields["command_id"]
    )
    causation_id: str | None = Field(default_factory=get_causation_id)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        """Override for pessimistic locking: the resources to hold while handling."""
        return []

    @property
    def message_id(self) -> str:
        return self.command_id
        # --8<-- [end:command]
