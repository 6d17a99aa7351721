"""The service host, as the two services use it: settings, routing, lifecycle.

* Settings come from the environment under the names deployments already use (``PORT``,
  ``HOST``, ``DATABASE_URL``, ``AMQP_URL``, billing's ``MERCHANT_ACCOUNT``), typed: a wrong
  value stops the process at start instead of surfacing later.
* Each service's route table sends exactly the events it lists where it lists them - through
  the outbox, in the command's transaction - and leaves the rest in-process.
* Stopping runs every step even when one fails, so a stuck consumer cannot leave the relay
  running or the connections open.
"""

from __future__ import annotations

import dataclasses
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from pydantic import ValidationError

from billing_service import bootstrap as billing
from billing_service.application.commands import (
    OpenAccountCommand,
    PayInvoiceCommand,
    TransferFundsCommand,
)
from cqrs_ddd_core.adapters.host.run import EVENT_LOOP
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.publishers.route_table import RouteTable
from cqrs_ddd_core.ports.outbox import OutboxMessage
from ordering_service import bootstrap as ordering
from ordering_service.application.commands import (
    CancelOrderCommand,
    CreateOrderCommand,
    OrderItem,
)
from ordering_service.domain.events import OrderCreated


def test_settings_are_read_from_the_variables_deployments_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/billing")
    monkeypatch.setenv("AMQP_URL", "amqp://broker/")
    monkeypatch.setenv("MERCHANT_ACCOUNT", "shop")

    settings = billing.BillingSettings()

    assert (settings.port, settings.host) == (9100, "127.0.0.1")
    assert settings.database_url == "postgresql+asyncpg://db/billing"
    assert settings.amqp_url == "amqp://broker/"
    assert settings.merchant_account == "shop"


async def test_database_pool_size_and_max_overflow_size_each_process_pool(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "1")
    settings = ordering.OrderingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    service = ordering.build(settings, broker=InMemoryBroker())
    try:
        engine = service.storage.engine
        assert engine is not None
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
    finally:
        await service.storage.close()
    with pytest.raises(ValidationError, match="database_pool_size"):
        ordering.OrderingSettings(database_pool_size=0)


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [("sqlite+aiosqlite:///{folder}/o.db", (2, 2)), ("postgresql+asyncpg://db/o", (5, 10))],
)
async def test_unset_the_pool_fits_the_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, expected: tuple[int, int]
) -> None:
    """SQLite has one writer at a time: a small pool, so a burst queues in it, not in SQLite."""
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.delenv("DATABASE_MAX_OVERFLOW", raising=False)
    settings = ordering.OrderingSettings(database_url=database_url.format(folder=tmp_path))
    service = ordering.build(settings, broker=InMemoryBroker())
    try:
        engine = service.storage.engine
        assert engine is not None
        assert (engine.pool.size(), engine.pool._max_overflow) == expected  # type: ignore[attr-defined]
    finally:
        await service.storage.close()


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_a_service_runs_on_uvloop_where_it_is_installed() -> None:
    # What uvicorn.run(loop=EVENT_LOOP) builds: the project installs uvloop with the host.
    import uvloop  # here, not at the top: the module must still import where uvloop has no build

    factory = uvicorn.Config(app=_no_app, loop=EVENT_LOOP).get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


async def _no_app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("never served")


def test_a_service_listens_on_this_machine_only_unless_host_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOST", raising=False)
    assert ordering.OrderingSettings().host == billing.BillingSettings().host == "127.0.0.1"
    monkeypatch.setenv("HOST", "0.0.0.0")  # what a container sets
    assert ordering.OrderingSettings().host == "0.0.0.0"


def test_each_service_keeps_its_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "DATABASE_URL", "MERCHANT_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    assert ordering.OrderingSettings().port == 8001
    assert billing.BillingSettings().port == 8002
    assert billing.BillingSettings().merchant_account == billing.MERCHANT_ACCOUNT
    assert ordering.OrderingSettings().database_url.endswith("var/ordering.db")


def test_a_malformed_setting_stops_the_service_at_start_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ValidationError, match="port"):
        ordering.OrderingSettings()


async def outbox_rows(storage: InMemoryOutboxStorage) -> list[OutboxMessage]:
    return await storage.claim_batch(100, lease_seconds=30)


async def test_ordering_routes_new_orders_and_cancellations_to_billing_outcomes_to_customers() -> (
    None
):
    service = ordering.build(
        ordering.OrderingSettings(database_url="memory"), broker=InMemoryBroker()
    )
    item = OrderItem(sku="p1", quantity=1, unit_price=Decimal("5"))
    created = await service.mediator.send(CreateOrderCommand(customer_id="ada", items=[item]))
    await service.mediator.send(CancelOrderCommand(order_id=created.result, reason="changed mind"))

    assert isinstance(service.storage.outbox, InMemoryOutboxStorage)
    topics = [row.topic for row in await outbox_rows(service.storage.outbox)]
    assert topics == ["OrderCreated", "OrderCancelled", "notifications.OrderCancelled"]


async def test_billing_tells_ordering_and_the_customer_of_each_payment_and_keeps_the_rest() -> None:
    service = billing.build(billing.BillingSettings(database_url="memory"), broker=InMemoryBroker())
    send = service.mediator.send
    for account in ("ada", "shop"):
        await send(OpenAccountCommand(account_id=account, balance=Decimal(10)))
    await send(TransferFundsCommand(from_account="ada", to_account="shop", amount=Decimal(3)))
    assert isinstance(service.storage.outbox, InMemoryOutboxStorage)
    assert await outbox_rows(service.storage.outbox) == [], "account events stay in-process"

    await send(
        PayInvoiceCommand(
            order_id="o1", customer_id="ada", amount=Decimal(5), merchant_account="shop"
        )
    )
    topics = [row.topic for row in await outbox_rows(service.storage.outbox)]
    assert topics == ["PaymentCaptured", "notifications.PaymentCaptured"]


def test_a_route_to_a_destination_nobody_serves_fails_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="analytics"):
        RouteTable({OrderCreated: ["analytics"]}, destinations={})


class StuckConsumerError(RuntimeError):
    pass


async def test_stopping_closes_everything_even_when_a_consumer_fails_to_stop() -> None:
    broker = InMemoryBroker()
    service = ordering.build(ordering.OrderingSettings(database_url="memory"), broker=broker)
    await service.start()
    [consumer] = service.consumers
    closed: list[str] = []

    async def stuck(timeout: float = 10.0) -> None:
        raise StuckConsumerError

    async def close_broker() -> None:
        closed.append("broker")

    async def close_storage() -> None:
        closed.append("storage")

    consumer.stop = stuck  # type: ignore[method-assign]
    service.plumbing.broker = dataclasses.replace(service.broker, close=close_broker)
    service.storage.close = close_storage  # type: ignore[method-assign]
    with pytest.raises(StuckConsumerError):
        await service.stop()

    assert not service.outbox.running
    assert closed == ["broker", "storage"], "the relay stops before the connections close"
    await broker.stop()
