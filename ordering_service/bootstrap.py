"""Ordering's composition root: the only module that knows concrete classes.

Read it top to bottom: the settings, the handlers, the middleware, the route table, the
consumer, and `build`, which puts them on the plumbing every service shares (storage, broker,
outbox relay: `cqrs_ddd_core.adapters.host`) and returns the `ServiceHost` that starts,
stops and serves ordering.

The thing to notice is the route table: it alone decides where each event goes.
`OrderCreated`, `OrderCancelled` and `RefundRequested` leave for billing (``integration``:
outbox -> broker), confirmations and cancellations are told to the customer
(``notifications``), and every other event stays in-process, where the read-model projection
keeps the order summaries up to date and `OrderPaymentProcess` starts the payment deadline.

`build` takes ``broker`` (an `InMemoryBroker` to share in process: the embedded default),
``relay`` (the outbox relay's seams, which the fault-injection suite fills) and ``clock``
(what "now" is for the payment deadlines, which tests move). Tests call the same functions.
Guide: docs/patterns/composition-root.md, docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import Field

from cqrs_ddd_core.adapters.host.deadlines import deadline_storage
from cqrs_ddd_core.adapters.host.mediator import build_mediator
from cqrs_ddd_core.adapters.host.plumbing import DEFAULT_RELAY, Plumbing, RelayOptions
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import StorageRecipe
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.cqrs.publishers.route_table import (
    INTEGRATION,
    NOTIFICATIONS,
    Routes,
    RouteTable,
)
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import utc_now
from ordering_service import api
from ordering_service.application.command_handlers import (
    CancelOrderHandler,
    ConfirmOrderHandler,
    CreateOrderHandler,
    CreateShipmentHandler,
    ExpirePaymentHandler,
    RecordPaymentHandler,
    ShipOrderHandler,
)
from ordering_service.application.commands import (
    CancelOrderCommand,
    ConfirmOrderCommand,
    CreateOrderCommand,
    CreateShipmentCommand,
    ExpirePaymentCommand,
    RecordPaymentCommand,
    ShipOrderCommand,
)
from ordering_service.application.payment_process import (
    DEFAULT_PAYMENT_TIMEOUT,
    OrderPaymentProcess,
)
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.application.query_handlers import GetOrderHandler, ListOrdersHandler
from ordering_service.application.read_model import OrderSummaryProjection
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
    """`ServiceSettings`, and how long an order waits for its payment.

    ``PAYMENT_TIMEOUT_SECONDS``: after it, an unpaid order is cancelled.
    ``DEADLINE_POLL_INTERVAL``: how often the deadline scheduler looks for due deadlines.
    """

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


def register_handlers(
    registry: HandlerRegistry, bus: ICommandBus, process: OrderPaymentProcess | None = None
) -> None:
    """Every command, query and in-process event handler of ordering.

    ``process`` starts each order's payment deadline; by default the deadlines stay in this
    process (tests of the handlers alone). `build` passes the service's own.
    """
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())
    registry.register_command_handler(ConfirmOrderCommand, ConfirmOrderHandler())
    registry.register_command_handler(RecordPaymentCommand, RecordPaymentHandler())
    registry.register_command_handler(ExpirePaymentCommand, ExpirePaymentHandler())
    registry.register_command_handler(CancelOrderCommand, CancelOrderHandler())
    registry.register_command_handler(ShipOrderCommand, ShipOrderHandler(bus))
    registry.register_command_handler(CreateShipmentCommand, CreateShipmentHandler())
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())
    registry.register_query_handler(ListOrdersQuery, ListOrdersHandler())
    projection = OrderSummaryProjection()
    for event_type in OrderSummaryProjection.handles:
        registry.register_event_handler(event_type, projection)
    process = (
        process if process is not None else OrderPaymentProcess(bus, InMemoryDeadlineStorage())
    )
    registry.register_event_handler(OrderCreated, process)


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
    deadlines = deadline_storage(storage, clock=clock)

    def payment_process(bus: ICommandBus) -> OrderPaymentProcess:
        timeout = settings.payment_timeout_seconds
        return OrderPaymentProcess(bus, deadlines, timeout_seconds=timeout, clock=clock)

    mediator = build_mediator(
        lambda registry, bus: register_handlers(registry, bus, payment_process(bus)),
        storage.uow_factory,
        build_middleware(plumbing.outbox),
    )
    process = payment_process(mediator)
    consumer = payment_results_consumer(
        plumbing.broker.consumer,
        mediator,
        uow_factory=storage.uow_factory,
        inbox=storage.inbox,
        process=process,
    )
    scheduler = DeadlineScheduler(
        deadlines,
        process.deadline_passed,
        poll_interval=settings.deadline_poll_interval,
        lease_seconds=relay.lease_seconds,
        clock=clock,
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
