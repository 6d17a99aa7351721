"""Ordering's composition root: the only module that knows concrete classes.

Read it top to bottom to see everything an order passes through, built from settings:

* storage - SQLite or PostgreSQL (`DATABASE_URL`), or in memory (``memory``) for tests;
* the mediator - handlers built with their dependencies, the read-model projection as an
  in-process event handler, and the middleware: logging, then the outbox;
* routing - ``integration`` events go through the outbox to the broker, ``notifications``
  through the same outbox under ``notifications.*``; the rest stay in-process;
* the consumer of billing's payment results, with its inbox;
* the lifecycle - `OrderingService.start` migrates, starts consuming and relaying;
  `stop` stops consuming, finishes in-flight messages, then stops the relay.

Tests call the same functions with an `InMemoryBroker`. Guide: docs/patterns/composition-root.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.broker_channel import (
    BrokerChannel,
    in_process_channel,
    rabbitmq_channel,
)
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer, SupportsUnsubscribe
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.publishers.notifications import (
    TOPIC_PREFIX,
    NotificationLog,
    NotificationsPublisher,
)
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import IOutboxStorage
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from ordering_service import api, faults
from ordering_service.application.command_handlers import (
    CancelOrderHandler,
    ConfirmOrderHandler,
    CreateOrderHandler,
    CreateShipmentHandler,
    ShipOrderHandler,
)
from ordering_service.application.commands import (
    CancelOrderCommand,
    ConfirmOrderCommand,
    CreateOrderCommand,
    CreateShipmentCommand,
    ShipOrderCommand,
)
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.application.query_handlers import GetOrderHandler, ListOrdersHandler
from ordering_service.application.read_model import OrderSummaryProjection
from ordering_service.consumers import payment_results_consumer
from ordering_service.infrastructure.memory import OrderingInMemoryUnitOfWork
from ordering_service.infrastructure.sql import OrderingSqlUnitOfWork

logger = logging.getLogger(__name__)

SERVICE = "ordering"
MEMORY = "memory"
"""``DATABASE_URL=memory``: in-process storage, gone when the process ends (tests)."""
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/ordering.db"
DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/"
MIGRATIONS = Path(__file__).parent / "infrastructure" / "migrations" / "versions"
NOTIFICATION_TOPICS = ("OrderConfirmed", "OrderCancelled")
NOTIFICATIONS_QUEUE = "ordering.notifications"


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderingSettings:
    port: int = 8001
    database_url: str = DEFAULT_DATABASE_URL
    amqp_url: str = DEFAULT_AMQP_URL
    exchange_name: str = "events"
    outbox_poll_interval: float = 1.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, port_variable: str = "PORT"
    ) -> OrderingSettings:
        env = os.environ if env is None else env
        return cls(
            port=int(env.get(port_variable, cls.port)),
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            amqp_url=env.get("AMQP_URL", DEFAULT_AMQP_URL),
        )


# --- the mediator --------------------------------------------------------------------------


def register_handlers(registry: HandlerRegistry, bus: ICommandBus) -> None:
    """Every command, query and in-process event handler of ordering."""
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())
    registry.register_command_handler(ConfirmOrderCommand, ConfirmOrderHandler())
    registry.register_command_handler(CancelOrderCommand, CancelOrderHandler())
    registry.register_command_handler(ShipOrderCommand, ShipOrderHandler(bus))
    registry.register_command_handler(CreateShipmentCommand, CreateShipmentHandler())
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())
    registry.register_query_handler(ListOrdersQuery, ListOrdersHandler())
    projection = OrderSummaryProjection()
    for event_type in OrderSummaryProjection.handles:
        registry.register_event_handler(event_type, projection)


def build_mediator(
    uow_factory: Callable[[], UnitOfWork],
    middleware_registry: MiddlewareRegistry | None = None,
) -> Mediator:
    """The mediator with every ordering handler registered."""
    registry = HandlerRegistry()
    mediator = Mediator(
        registry=registry, uow_factory=uow_factory, middleware_registry=middleware_registry
    )
    register_handlers(registry, mediator)
    return mediator


def build_middleware(outbox: IMessagePublisher) -> MiddlewareRegistry:
    """Logging outermost; the outbox writes each routed event in the command's transaction."""
    router = TopicRoutingPublisher(
        destinations={
            "integration": outbox,
            "notifications": NotificationsPublisher(outbox),
        }
    )
    middleware = MiddlewareRegistry()
    middleware.register(LoggingMiddleware(), priority=0)
    middleware.register(OutboxMiddleware(router), priority=20)
    return middleware


# --- storage -------------------------------------------------------------------------------


@dataclass
class Storage:
    """Where ordering keeps its state, its outbox and its inbox: one database."""

    uow_factory: Callable[[], UnitOfWork]
    outbox: IOutboxStorage
    inbox: IInboxStorage
    engine: AsyncEngine | None = None

    async def migrate(self) -> None:
        if self.engine is not None:
            await upgrade(self.engine, MIGRATIONS)

    async def healthy(self) -> bool:
        if self.engine is None:
            return True
        try:
            async with asyncio.timeout(2.0), read_only(self.engine).connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            logger.warning("ordering database is not reachable", exc_info=True)
            return False
        return True

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


def build_storage(database_url: str) -> Storage:
    if database_url == MEMORY:
        store = InMemoryStore()
        return Storage(
            uow_factory=lambda: OrderingInMemoryUnitOfWork(store),
            outbox=InMemoryOutboxStorage(),
            inbox=InMemoryInboxStorage(store),
        )
    _create_sqlite_directory(database_url)
    engine = create_engine(database_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return Storage(
        uow_factory=lambda: OrderingSqlUnitOfWork(sessions),
        outbox=SqlAlchemyOutboxStorage(engine),
        inbox=SqlAlchemyInboxStorage(engine),
        engine=engine,
    )


def _create_sqlite_directory(database_url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if database_url.startswith(prefix):
        Path(database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


# --- the service ---------------------------------------------------------------------------


@dataclass
class OrderingService:
    """Ordering, assembled: what the HTTP app and `__main__` run."""

    settings: OrderingSettings
    mediator: Mediator
    storage: Storage
    broker: BrokerChannel
    outbox: BufferedOutbox
    consumer: BaseEventConsumer
    notifications: NotificationLog

    async def start(self) -> None:
        """Migrate, then consume and relay (rows left by a previous run go out first)."""
        await self.storage.migrate()
        for topic in NOTIFICATION_TOPICS:
            await self.broker.consumer.subscribe(
                TOPIC_PREFIX + topic, self.notifications.handle, NOTIFICATIONS_QUEUE
            )
        await self.consumer.start()
        await self.outbox.start()

    async def stop(self) -> None:
        """Graceful: stop consuming, let in-flight messages finish, then stop the relay."""
        # Every step runs even if one before it fails: a stuck consumer must not leave the
        # relay running or the connections open. The stack unwinds last-in, first-out.
        async with contextlib.AsyncExitStack() as cleanup:
            cleanup.push_async_callback(self.storage.close)
            cleanup.push_async_callback(self.broker.close)
            cleanup.push_async_callback(self.outbox.stop)
            await self.consumer.stop()
            if isinstance(self.broker.consumer, SupportsUnsubscribe):
                for topic in NOTIFICATION_TOPICS:
                    await self.broker.consumer.unsubscribe(
                        TOPIC_PREFIX + topic, self.notifications.handle, NOTIFICATIONS_QUEUE
                    )

    def create_app(self) -> Litestar:
        """The HTTP app; its lifespan starts and stops the service."""
        return api.create_app(
            self.mediator,
            health_check=self.health,
            notification_feed=self.notifications.received,
            on_startup=[self.start],
            on_shutdown=[self.stop],
        )

    async def health(self) -> dict[str, Any]:
        checks = {
            "database": await self.storage.healthy(),
            "broker": await self.broker.healthy(),
        }
        return {"status": "ok" if all(checks.values()) else "unavailable", **checks}


def build(settings: OrderingSettings, *, broker: InMemoryBroker | None = None) -> OrderingService:
    """Ordering from its settings; pass ``broker`` for the embedded default (shared broker)."""
    storage = build_storage(settings.database_url)
    channel = (
        in_process_channel(broker)
        if broker is not None
        else rabbitmq_channel(settings.amqp_url, settings.exchange_name)
    )
    outbox = BufferedOutbox(
        storage=storage.outbox,
        broker=faults.relay_publisher(channel.publisher),  # itself unless a FAULT_ is set
        poll_interval=settings.outbox_poll_interval,
        wait_delay=0.002,
        **faults.relay_options(),  # nothing unless a FAULT_ is set
    )
    mediator = build_mediator(storage.uow_factory, build_middleware(outbox))
    consumer = payment_results_consumer(
        channel.consumer, mediator, uow_factory=storage.uow_factory, inbox=storage.inbox
    )
    return OrderingService(
        settings, mediator, storage, channel, outbox, consumer, NotificationLog()
    )
