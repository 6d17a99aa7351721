"""Handlers: where the business logic of a command, a query or an event lives.

A command handler loads aggregates through ``get_current_uow()``, calls their methods and
returns a `CommandResponse` with the events they recorded. A query handler returns DTOs.
An event handler reacts to an event in-process (inside the same transaction).
Guide: docs/components/handlers.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.domain.events import DomainEvent

TResult = TypeVar("TResult")
E = TypeVar("E", bound=DomainEvent)


# --8<-- [start:handlers]
class CommandHandler(ABC, Generic[TResult]):
    """Base class for command handlers."""

    @abstractmethod
    async def handle(self, command: Any) -> CommandResponse[TResult]:
        """Handle a `Command[TResult]` (subclasses narrow the parameter type)."""


class QueryHandler(ABC, Generic[TResult]):
    """Base class for query handlers."""

    @abstractmethod
    async def handle(self, query: Any) -> QueryResponse[TResult]:
        """Handle a `Query[TResult]` (subclasses narrow the parameter type)."""


class EventHandler(ABC, Generic[E]):
    """Base class for in-process event handlers."""

    @abstractmethod
    async def handle(self, event: E) -> None: ...
