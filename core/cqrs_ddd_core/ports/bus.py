"""`ICommandBus` and `IQueryBus`: what application code depends on to send messages.

Callers (HTTP handlers, consumers, other handlers) depend on these, not on `Mediator`, so a
test can hand them a fake bus. The thing to notice: the two buses say what they carry. A
command bus takes a `Command[T]` and answers a `CommandResponse[T]`; a query bus takes a
`Query[T]` and answers a `QueryResponse[T]` - so ``(await bus.send(GetOrderQuery(...))).result``
is typed by the query itself, and code that holds only an `IQueryBus` cannot send a command.
`Mediator` implements both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypeVar

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse

T = TypeVar("T")


class ICommandBus(ABC):
    """Sends a command to its one handler, in a unit of work."""

    @abstractmethod
    async def send(self, message: Command[T]) -> CommandResponse[T]:
        """Dispatch ``message`` and return its `CommandResponse`."""


class IQueryBus(ABC):
    """Sends a query to its one handler, which only reads."""

    @abstractmethod
    async def send(self, message: Query[T]) -> QueryResponse[T]:
        """Dispatch ``message`` and return its `QueryResponse`."""
