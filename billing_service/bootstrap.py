"""Billing's composition root: the only module that knows concrete infrastructure classes.

Read it top to bottom, as ordering's: settings, middleware, route table, and `build`, which
registers the handlers (application/handlers.py) and hands them, with the two consumers, to the
core's service host (`cqrs_ddd_core.adapters.host`). The thing to notice is the middleware's
order: logging, then locking - the debited account is held until the transaction ends, by
that transaction itself (``LOCK_STORE=transaction``, the default), in a lock table next to the
database (``LOCK_STORE=table``) or in Redis (``LOCK_URL``) - then the outbox. The route
table sends each payment result to ordering (``integration``) *and* to the customer
(``notifications``). `build`'s seams ``relay`` and ``payment_bus`` (what the payment
policy sends through) serve the fault-injection suite. Guide: docs/patterns/composition-root.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import PositiveFloat, field_validator

from billing_service import api
from billing_service.application.commands import OpenAccountCommand
from billing_service.application.handlers import register_handlers
from billing_service.consumers import cancellations_consumer, orders_consumer
from billing_service.domain.errors import AccountAlreadyExistsError
from billing_service.domain.events import PaymentCaptured, PaymentFailed, PaymentRefunded
from billing_service.infrastructure.memory import BillingInMemoryUnitOfWork
from billing_service.infrastructure.sql import BillingSqlUnitOfWork
from cqrs_ddd_core.adapters.host.locks import check_lock_url, service_locks
from cqrs_ddd_core.adapters.host.mediator import build_mediator
from cqrs_ddd_core.adapters.host.plumbing import DEFAULT_RELAY, Plumbing, RelayOptions
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import StorageRecipe
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION, NOTIFICATIONS, Routes, RouteTable
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/billing.db"
MERCHANT_ACCOUNT = "merchant"


# --8<-- [start:settings]
class BillingSettings(ServiceSettings):
    """`ServiceSettings`, ``MERCHANT_ACCOUNT`` (the account every payment goes to) and where
    the locks live: ``LOCK_URL`` unset keeps them in billing's database - held by each
    command's own transaction (``LOCK_STORE=transaction``) or as rows of a lock table
    (``LOCK_STORE=table``); ``redis://`` or ``rediss://`` puts them in that Redis, under keys
    starting ``LOCK_PREFIX``."""

    port: int = 8002
    database_url: str = DEFAULT_DATABASE_URL
    merchant_account: str = MERCHANT_ACCOUNT
    lock_url: str | None = None
    lock_store: Literal["transaction", "table"] = "transaction"
    lock_prefix: str = "billing:lock:"
    lock_ttl_seconds: PositiveFloat = 30.0
    """How long a table or Redis lock outlives a holder that vanished (a crashed replica); a
    transaction's lock ends with the transaction."""

    _lock_url_names_redis = field_validator("lock_url")(check_lock_url)


# --8<-- [end:settings]


STORAGE = StorageRecipe(
    in_memory=BillingInMemoryUnitOfWork,
    sql=BillingSqlUnitOfWork,
    migrations=Path(__file__).parent / "infrastructure" / "migrations" / "versions",
    locks=True,
)


# --8<-- [start:routes]
ROUTES: Routes = {
    PaymentCaptured: [INTEGRATION, NOTIFICATIONS],
    PaymentFailed: [INTEGRATION, NOTIFICATIONS],
    PaymentRefunded: [NOTIFICATIONS],
}
"""Where each event goes; the account and invoice events stay in-process."""
# --8<-- [end:routes]


def build_middleware(
    outbox: IMessagePublisher, locks: ILockStrategy, *, lock_ttl: float = 30.0
) -> MiddlewareRegistry:
    """Logging outermost; locks held until the transaction ends; events into the outbox."""
    middleware = MiddlewareRegistry()
    middleware.register(LoggingMiddleware(), priority=0)
    middleware.register(LockingMiddleware(locks, timeout=10.0, ttl=lock_ttl), priority=10)
    middleware.register(OutboxMiddleware(RouteTable.through_outbox(ROUTES, outbox)), priority=20)
    return middleware


def build(
    settings: BillingSettings,
    *,
    broker: InMemoryBroker | None = None,
    payment_bus: Callable[[ICommandBus], ICommandBus] = lambda bus: bus,
    relay: RelayOptions = DEFAULT_RELAY,
) -> ServiceHost:
    """Billing from its settings, on the shared ``broker`` if one is given."""
    locks = service_locks(
        settings.database_url,
        lock_url=settings.lock_url,
        lock_store=settings.lock_store,
        prefix=settings.lock_prefix,
    )
    plumbing = Plumbing.open(settings, STORAGE, broker=broker, relay=relay, locks=locks)
    storage = plumbing.storage
    middleware = build_middleware(
        plumbing.outbox, storage.locks, lock_ttl=settings.lock_ttl_seconds
    )
    mediator = build_mediator(register_handlers, storage.uow_factory, middleware)
    bus = payment_bus(mediator)
    consumers = [  # new orders; ordering's cancellations and refund requests
        new_consumer(
            plumbing.broker.consumer,
            bus,
            merchant_account=settings.merchant_account,
            uow_factory=storage.uow_factory,
            inbox=storage.inbox,
            # With the transaction's own locks (the default), one transaction per message.
            check_inbox_inside=storage.locks.held_by_transaction,
        )
        for new_consumer in (orders_consumer, cancellations_consumer)
    ]

    async def open_merchant_account() -> None:
        try:
            await mediator.send(OpenAccountCommand(account_id=settings.merchant_account))
        except (AccountAlreadyExistsError, ConcurrencyError):
            pass  # opened by an earlier run, or by a replica starting at the same time

    return ServiceHost(
        "billing",
        settings,
        plumbing,
        mediator,
        consumers,
        api.ENDPOINTS,
        ROUTES,
        on_start=[open_merchant_account],
    )
