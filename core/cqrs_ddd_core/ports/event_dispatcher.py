"""`IEventDispatcher`: how the mediator and the consumers hand events to in-process handlers."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Protocol

from cqrs_ddd_core.domain.events import DomainEvent


class IEventDispatcher(Protocol):
    @abstractmethod
    def register(self, event_type: type[Any], handler: Any, *, priority: int = 0) -> None: ...

    @abstractmethod
    async def dispatch(self, event: DomainEvent) -> None: ...
