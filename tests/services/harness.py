"""Each service's real mediator over in-memory storage, for tests and scenarios.

The mediators are built from each service's `application.handlers.register_handlers` by the host's
`build_mediator`, exactly as production builds them; only the unit of work (in memory) and
the lock strategy (in process) differ.
`EventRecorder` keeps the events of every successful command, nested ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from billing_service.application import handlers as billing_handlers
from billing_service.infrastructure.memory import BillingInMemoryUnitOfWork
from cqrs_ddd_core.adapters.host.mediator import build_mediator
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry, Next
from ordering_service.application import handlers as ordering_handlers
from ordering_service.infrastructure.memory import OrderingInMemoryUnitOfWork

E = TypeVar("E", bound=DomainEvent)

LOCK_TIMEOUT = 5.0
"""Short: a lock that is never freed fails the test instead of hanging it."""


class EventRecorder:
    """A middleware that remembers the events of every successful command."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def __call__(self, message: Any, next: Next) -> Any:
        response = await next(message)
        if isinstance(response, CommandResponse) and response.success:
            self.events.extend(response.events)
        return response

    def of_type(self, event_type: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, event_type)]


@dataclass
class Ordering:
    mediator: Mediator
    store: InMemoryStore
    middleware: MiddlewareRegistry
    recorder: EventRecorder
    units_of_work: list[OrderingInMemoryUnitOfWork] = field(default_factory=list)


@dataclass
class Billing:
    mediator: Mediator
    store: InMemoryStore
    middleware: MiddlewareRegistry
    recorder: EventRecorder
    locks: InMemoryLockStrategy
    units_of_work: list[BillingInMemoryUnitOfWork] = field(default_factory=list)


def ordering_harness() -> Ordering:
    store = InMemoryStore()
    created: list[OrderingInMemoryUnitOfWork] = []
    recorder = EventRecorder()
    middleware = MiddlewareRegistry()
    middleware.register(recorder, priority=0)

    def new_uow() -> OrderingInMemoryUnitOfWork:
        uow = OrderingInMemoryUnitOfWork(store)
        created.append(uow)
        return uow

    mediator = build_mediator(ordering_handlers.register_handlers, new_uow, middleware)
    return Ordering(mediator, store, middleware, recorder, created)


def billing_harness() -> Billing:
    store = InMemoryStore()
    created: list[BillingInMemoryUnitOfWork] = []
    locks = InMemoryLockStrategy()
    recorder = EventRecorder()
    middleware = MiddlewareRegistry()
    middleware.register(recorder, priority=0)
    middleware.register(LockingMiddleware(locks, timeout=LOCK_TIMEOUT, ttl=30.0), priority=10)

    def new_uow() -> BillingInMemoryUnitOfWork:
        uow = BillingInMemoryUnitOfWork(store)
        created.append(uow)
        return uow

    mediator = build_mediator(billing_handlers.register_handlers, new_uow, middleware)
    return Billing(mediator, store, middleware, recorder, locks, created)


def states(units_of_work: list[Any]) -> list[str]:
    return [uow.state.value for uow in units_of_work]
