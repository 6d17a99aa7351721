"""`CommandResponse` and `QueryResponse`: what a handler returns and the caller receives.

A command handler returns its events in the response rather than publishing them: the
mediator stamps them with the correlation and causation ids, the `OutboxMiddleware` writes
them to the outbox, and the mediator dispatches them in-process - all inside the transaction.
``success=False`` rolls the command back and nothing is published.
Guide: docs/components/responses.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cqrs_ddd_core.domain.events import DomainEvent

T = TypeVar("T")


# --8<-- [start:command-response]
# slots: a third cheaper to build - built twice per command, by its handler and by the stamping
@dataclass(frozen=True, slots=True)
class CommandResponse(Generic[T]):
    """Wrapper for command results."""

    result: T
    events: list[DomainEvent] = field(default_factory=list)
    success: bool = True
    correlation_id: str | None = None
    causation_id: str | None = None
    # --8<-- [end:command-response]


@dataclass(frozen=True, slots=True)
# --8<-- [start:query-response]
class QueryResponse(Generic[T]):
    """Wrapper for query results."""

    result: T
    success: bool = True
    correlation_id: str | None = None
    causation_id: str | None = None
