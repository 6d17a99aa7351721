"""Ordering's composition root: the only module that knows concrete infrastructure classes.

Read it top to bottom: settings, middleware, route table, and `build`, which registers the
handlers (application/handlers.py) and puts them, the consumer and the deadline scheduler on
the plumbing every service shares (`cqrs_ddd_core.adapters.host`).
The thing to notice is the route table: it alone decides where each event goes - to billing
(``integration``), to the customer (``notifications``), or nowhere but the in-process handlers
(the read model, and `OrderPaymentProcess`, which starts each order's payment deadline).
`build`'s seams - ``broker`` (shared in process), ``relay`` (filled by the fault-injection
suite), ``clock`` (moved by the deadline tests) - are ordinary parameters.
Guide: docs/patterns/composition-root.md, docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import Field

from cqrs_ddd_core.adapters.host.deadlines import deadline_storage
from cqrs_ddd_core.adapters.host.plumbing import DEFAULT_RELAY, Plumbing, RelayOptions
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import StorageRecipe
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION, NOTIFICATIONS, Routes, RouteTable
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import utc_now
from ordering_service import api
from ordering_service.application.handlers import register_handlers
from ordering_service.application.payment_process import (
    DEFAULT_PAYMENT_TIMEOUT,
    OrderPaymentProcess,
)
from ordering_service.consumers import payment_results_consumer
from ordering_service.domain.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    RefundRequested,
)
from ordering_service.infrastructure.memory import OrderingInMemoryUnitOfWork
from ordering_service.infrastructure.sql import OrderingSqlUnitOfWork

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/ordering.db"


class OrderingSettings(ServiceSettings):
    """`ServiceSettings`; ``PAYMENT_TIMEOUT_SECONDS`` (then an unpaid order is cancelled) and
    ``DEADLINE_POLL_INTERVAL`` (how often the scheduler looks for due deadlines)."""

    port: int = 8001
    database_url: str = DEFAULT_DATABASE_URL
    payment_timeout_seconds: float = Field(default=DEFAULT_PAYMENT_TIMEOUT, gt=0)
    deadline_poll_interval: float = Field(default=1.0, gt=0)


STORAGE = StorageRecipe(
    in_memory=OrderingInMemoryUnitOfWork,
    sql=OrderingSqlUnitOfWork,
    migrations=Path(__file__).parent / "infrastructure" / "migrations" / "versions",
    deadlines=True,
)


# --8<-- [start:routes]
ROUTES: Routes = {
    OrderCreated: [INTEGRATION],
    OrderConfirmed: [NOTIFICATIONS],
    OrderCancelled: [INTEGRATION, NOTIFICATIONS],
    RefundRequested: [INTEGRATION],
}
"""Where each event goes; an event type not listed stays in-process."""
# --8<-- [end:routes]


def build_middleware(outbox: IMessagePublisher) -> MiddlewareRegistry:
    """Logging outermost; the outbox writes each routed event in the command's transaction."""
    middleware = MiddlewareRegistry()
    middleware.register(LoggingMiddleware(), priority=0)
    middleware.register(OutboxMiddleware(RouteTable.through_outbox(ROUTES, outbox)), priority=20)
    return middleware


# --8<-- [start:build]
def build(
    settings: OrderingSettings,
    *,
    broker: InMemoryBroker | None = None,
    relay: RelayOptions = DEFAULT_RELAY,
    clock: Callable[[], datetime] = utc_now,
) -> ServiceHost:
    """Ordering from its settings, on the shared ``broker`` if one is given."""
    plumbing = Plumbing.open(settings, STORAGE, broker=broker, relay=relay)
    storage = plumbing.storage
    registry = HandlerRegistry()
    middleware = build_middleware(plumbing.outbox)
    mediator = Mediator(registry, storage.uow_factory, middleware_registry=middleware)
    process = OrderPaymentProcess(
        mediator,
        deadline_storage(storage, clock=clock),
        timeout_seconds=settings.payment_timeout_seconds,
        clock=clock,
    )
    register_handlers(registry, mediator, process)
    consumer = payment_results_consumer(
        plumbing.broker.consumer,
        mediator,
        uow_factory=storage.uow_factory,
        inbox=storage.inbox,
        process=process,
    )
    scheduler = process.scheduler(
        poll_interval=settings.deadline_poll_interval, lease_seconds=relay.lease_seconds
    )
    return ServiceHost(
        "ordering",
        settings,
        plumbing,
        mediator,
        [consumer],
        api.ENDPOINTS,
        ROUTES,
        workers=[scheduler],
    )


# --8<-- [end:build]
