"""Billing's composition root: the only module that knows concrete classes.

Read it top to bottom to see everything a payment passes through, built from settings:

* storage - SQLite or PostgreSQL (`DATABASE_URL`), or in memory (``memory``) for tests;
* locks - `TransferFundsCommand` and `PayInvoiceCommand` hold their accounts through the
  locking middleware: in the service's PostgreSQL database, in a SQLite file of their own next
  to a SQLite database (see `build_lock_strategy`), in process with in-memory storage;
* the mediator - logging, then locking, then the outbox, around handlers built here;
* routing - ``integration`` events (the payment results) go through the outbox to the broker,
  and a `PublishingEventHandler` also sends them to the notifications destination;
* the consumer of ordering's `OrderCreated`, with its inbox;
* the lifecycle - `BillingService.start` migrates, opens the merchant account if it is
  missing, starts consuming and relaying; `stop` stops consuming, finishes in-flight
  messages, then stops the relay.

Guide: docs/patterns/composition-root.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from billing_service import api, faults
from billing_service.application.command_handlers import (
    AccountAlreadyExistsError,
    DepositHandler,
    OpenAccountHandler,
    PayInvoiceHandler,
    TransferFundsHandler,
)
from billing_service.application.commands import (
    DepositCommand,
    OpenAccountCommand,
    PayInvoiceCommand,
    TransferFundsCommand,
)
from billing_service.application.queries import GetAccountQuery, ListInvoicesQuery
from billing_service.application.query_handlers import GetAccountHandler, ListInvoicesHandler
from billing_service.consumers import orders_consumer
from billing_service.domain.events import PaymentCaptured, PaymentFailed
from billing_service.infrastructure.memory import BillingInMemoryUnitOfWork
from billing_service.infrastructure.sql import BillingSqlUnitOfWork
from cqrs_ddd_core.adapters.broker_channel import (
    BrokerChannel,
    in_process_channel,
    rabbitmq_channel,
)
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, is_sqlite, read_only
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer, SupportsUnsubscribe
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.publishers.handler import PublishingEventHandler
from cqrs_ddd_core.cqrs.publishers.notifications import (
    TOPIC_PREFIX,
    NotificationLog,
    NotificationsPublisher,
)
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import IOutboxStorage
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError

logger = logging.getLogger(__name__)

MEMORY = "memory"
"""``DATABASE_URL=memory``: in-process storage, gone when the process ends (tests)."""
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/billing.db"
DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/"
MIGRATIONS = Path(__file__).parent / "infrastructure" / "migrations" / "versions"
NOTIFICATION_TOPICS = ("PaymentCaptured", "PaymentFailed")
NOTIFICATIONS_QUEUE = "billing.notifications"
LOCK_TIMEOUT = 10.0
LOCK_TTL = 30.0


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingSettings:
    port: int = 8002
    database_url: str = DEFAULT_DATABASE_URL
    amqp_url: str = DEFAULT_AMQP_URL
    exchange_name: str = "events"
    merchant_account: str = "merchant"
    outbox_poll_interval: float = 1.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, port_variable: str = "PORT"
    ) -> BillingSettings:
        env = os.environ if env is None else env
        return cls(
            port=int(env.get(port_variable, cls.port)),
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            amqp_url=env.get("AMQP_URL", DEFAULT_AMQP_URL),
            merchant_account=env.get("MERCHANT_ACCOUNT", cls.merchant_account),
        )


# --- the mediator --------------------------------------------------------------------------


def register_handlers(
    registry: HandlerRegistry, bus: ICommandBus, notifications: IMessagePublisher | None = None
) -> None:
    """Every command, query and in-process event handler of billing."""
    registry.register_command_handler(OpenAccountCommand, OpenAccountHandler())
    registry.register_command_handler(DepositCommand, DepositHandler())
    registry.register_command_handler(TransferFundsCommand, TransferFundsHandler())
    registry.register_command_handler(PayInvoiceCommand, PayInvoiceHandler(bus))
    registry.register_query_handler(GetAccountQuery, GetAccountHandler())
    registry.register_query_handler(ListInvoicesQuery, ListInvoicesHandler())
    if notifications is not None:
        # The payment results go to the broker (@route_to("integration")) *and* to people.
        notify = PublishingEventHandler(notifications)
        registry.register_event_handler(PaymentCaptured, notify)
        registry.register_event_handler(PaymentFailed, notify)


def build_mediator(
    uow_factory: Callable[[], UnitOfWork],
    middleware_registry: MiddlewareRegistry | None = None,
    notifications: IMessagePublisher | None = None,
) -> Mediator:
    """The mediator with every billing handler registered."""
    registry = HandlerRegistry()
    mediator = Mediator(
        registry=registry, uow_factory=uow_factory, middleware_registry=middleware_registry
    )
    register_handlers(registry, mediator, notifications)
    return mediator


def build_middleware(outbox: IMessagePublisher, locks: ILockStrategy) -> MiddlewareRegistry:
    """Logging outermost; locks held until the transaction ends; events into the outbox."""
    router = TopicRoutingPublisher(destinations={"integration": outbox})
    middleware = MiddlewareRegistry()
    middleware.register(LoggingMiddleware(), priority=0)
    middleware.register(LockingMiddleware(locks, timeout=LOCK_TIMEOUT, ttl=LOCK_TTL), priority=10)
    middleware.register(OutboxMiddleware(router), priority=20)
    return middleware


# --- storage and locks ---------------------------------------------------------------------


@dataclass
class Storage:
    """Where billing keeps its state, its outbox and its inbox (one database), and its locks."""

    uow_factory: Callable[[], UnitOfWork]
    outbox: IOutboxStorage
    inbox: IInboxStorage
    locks: ILockStrategy
    engines: list[AsyncEngine] = field(default_factory=list)
    """The service's database first, then the lock database if it has its own."""

    async def migrate(self) -> None:
        for index, engine in enumerate(self.engines):
            await upgrade(engine, *([MIGRATIONS] if index == 0 else []))

    async def healthy(self) -> bool:
        for engine in self.engines:
            try:
                async with asyncio.timeout(2.0), read_only(engine).connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception:
                logger.warning("billing database is not reachable", exc_info=True)
                return False
        return True

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def build_storage(database_url: str) -> Storage:
    if database_url == MEMORY:
        store = InMemoryStore()
        return Storage(
            uow_factory=lambda: BillingInMemoryUnitOfWork(store),
            outbox=InMemoryOutboxStorage(),
            inbox=InMemoryInboxStorage(store),
            locks=InMemoryLockStrategy(),
        )
    _create_sqlite_directory(database_url)
    engine = create_engine(database_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    locks, lock_engine = build_lock_strategy(engine)
    return Storage(
        uow_factory=lambda: BillingSqlUnitOfWork(sessions),
        outbox=SqlAlchemyOutboxStorage(engine),
        inbox=SqlAlchemyInboxStorage(engine),
        locks=locks,
        engines=[engine] if lock_engine is None else [engine, lock_engine],
    )


def build_lock_strategy(engine: AsyncEngine) -> tuple[ILockStrategy, AsyncEngine | None]:
    """Locks every process shares: in the service's database, or next to a SQLite one.

    Why a separate file for SQLite: a lock operation is a short transaction of its own, and
    SQLite has one writer per file. A payment takes its locks before its transaction begins,
    but its nested transfer re-enters them afterwards - and re-entering writes the hold count
    to the locks table. In the same file that write would wait for the payment's own open
    transaction, until the busy timeout. PostgreSQL locks rows, not the database, so there the
    locks table sits with the rest.
    """
    if not is_sqlite(engine):
        return SqlAlchemyLockStrategy(engine), None
    database = engine.url.database or ""
    lock_engine = create_engine(f"sqlite+aiosqlite:///{Path(database).with_suffix('.locks.db')}")
    return SqlAlchemyLockStrategy(lock_engine), lock_engine


def _create_sqlite_directory(database_url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if database_url.startswith(prefix):
        Path(database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


# --- the service ---------------------------------------------------------------------------


@dataclass
class BillingService:
    """Billing, assembled: what the HTTP app and `__main__` run."""

    settings: BillingSettings
    mediator: Mediator
    storage: Storage
    broker: BrokerChannel
    outbox: BufferedOutbox
    consumer: BaseEventConsumer
    notifications: NotificationLog

    async def start(self) -> None:
        """Migrate, make sure the merchant account exists, then consume and relay."""
        await self.storage.migrate()
        await self.open_merchant_account()
        for topic in NOTIFICATION_TOPICS:
            await self.broker.consumer.subscribe(
                TOPIC_PREFIX + topic, self.notifications.handle, NOTIFICATIONS_QUEUE
            )
        await self.consumer.start()
        await self.outbox.start()

    async def open_merchant_account(self) -> None:
        try:
            await self.mediator.send(OpenAccountCommand(account_id=self.settings.merchant_account))
        except (AccountAlreadyExistsError, ConcurrencyError):
            pass  # opened by an earlier run, or by a replica starting at the same time

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


def build(settings: BillingSettings, *, broker: InMemoryBroker | None = None) -> BillingService:
    """Billing from its settings; pass ``broker`` for the embedded default (shared broker)."""
    storage = build_storage(settings.database_url)
    channel = (
        in_process_channel(broker)
        if broker is not None
        else rabbitmq_channel(settings.amqp_url, settings.exchange_name)
    )
    outbox = BufferedOutbox(
        storage=storage.outbox,
        broker=channel.publisher,
        poll_interval=settings.outbox_poll_interval,
        wait_delay=0.002,
    )
    mediator = build_mediator(
        storage.uow_factory,
        build_middleware(outbox, storage.locks),
        notifications=NotificationsPublisher(outbox),
    )
    consumer = orders_consumer(
        channel.consumer,
        faults.payment_bus(mediator),  # the mediator itself unless a FAULT_ is set
        merchant_account=settings.merchant_account,
        uow_factory=storage.uow_factory,
        inbox=storage.inbox,
    )
    return BillingService(settings, mediator, storage, channel, outbox, consumer, NotificationLog())
