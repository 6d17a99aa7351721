"""`ICommandBus` and `IQueryBus`: what application code depends on to send messages.

Callers (HTTP handlers, consumers, other handlers) depend on these, not on `Mediator`, so a
test can hand them a fake bus.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class ICommandBus(ABC):
    @abstractmethod
    async def send(self, message: Any) -> Any:
        """Dispatch a command and return its `CommandResponse`."""


class IQueryBus(ABC):
    @abstractmethod
    async def send(self, message: Any) -> Any:
        """Dispatch a query and return its `QueryResponse`."""
