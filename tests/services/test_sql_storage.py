"""The services on SQL: their migrations, their repositories and their locks.

Each test gets an empty SQLite file (and, marked ``postgres``, a new PostgreSQL database);
the service's own `start()` migrates it, as at production start-up. The broker is the
in-process one: these tests are about storage.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import (
    OpenAccountCommand,
    PayInvoiceCommand,
    RecordOrderCancelledCommand,
    RefundPaymentCommand,
    TransferFundsCommand,
)
from billing_service.application.queries import GetAccountQuery, ListInvoicesQuery
from billing_service.domain.events import PaymentCaptured, PaymentFailed
from billing_service.infrastructure.tables import billing_metadata
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.sqlalchemy.deadlines import deadlines_metadata
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import core_tables
from cqrs_ddd_core.primitives.exceptions import DomainError, NotFoundError
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import (
    CreateOrderCommand,
    OrderItem,
    RecordPaymentCommand,
    ShipOrderCommand,
)
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.infrastructure.tables import ordering_metadata
from tests.services.databases import empty_database

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TIMEOUT = 30.0


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The kind of database, and for PostgreSQL the server (a session fixture, set up here)."""
    if request.param == "postgres":
        return "postgres", str(request.getfixturevalue("postgres_url"))
    return "sqlite", None


@pytest.fixture
async def database_url(database: tuple[str, str | None], tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(*database, tmp_path) as url:
        yield url


@pytest.fixture
async def ordering(database_url: str) -> AsyncIterator[ServiceHost]:
    broker = InMemoryBroker(mandatory=False)
    settings = ordering_bootstrap.OrderingSettings(database_url=database_url)
    service = ordering_bootstrap.build(settings, broker=broker)
    await service.start()
    yield service
    await service.stop()
    await broker.stop()


@pytest.fixture
async def billing(database_url: str) -> AsyncIterator[ServiceHost]:
    broker = InMemoryBroker(mandatory=False)
    settings = billing_bootstrap.BillingSettings(database_url=database_url)
    service = billing_bootstrap.build(settings, broker=broker)
    await service.start()
    yield service
    await service.stop()
    await broker.stop()


async def differences(url: str, metadata: list[MetaData]) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_ordering_migrations_build_exactly_its_tables(
    ordering: ServiceHost, database_url: str
) -> None:
    # Ordering schedules payment deadlines: it has the core's optional deadlines table too.
    tables = [core_tables(), deadlines_metadata, ordering_metadata]
    assert await differences(database_url, tables) == []
    assert (await ordering.health())["status"] == "ok"


async def test_billing_migrations_build_exactly_its_tables(
    billing: ServiceHost, database_url: str
) -> None:
    assert await differences(database_url, [core_tables(), billing_metadata]) == []


async def test_an_order_round_trips_through_sql_with_its_summary(
    ordering: ServiceHost,
) -> None:
    send = ordering.mediator.send
    placed = await send(
        CreateOrderCommand(
            customer_id="alice",
            items=[
                OrderItem(sku="book", quantity=3, unit_price=Decimal("19.99")),
                OrderItem(sku="pen", quantity=1, unit_price=Decimal("0.10")),
            ],
        )
    )
    order_id = placed.result
    await send(RecordPaymentCommand(order_id=order_id, payment_id="payment-1"))
    shipment_id = (await send(ShipOrderCommand(order_id=order_id))).result

    order = (await send(GetOrderQuery(order_id=order_id))).result
    assert (order.status, order.total, order.shipment_id) == (
        "SHIPPED",
        Decimal("60.07"),
        shipment_id,
    )
    assert [(i.sku, i.unit_price) for i in order.items] == [
        ("book", Decimal("19.99")),
        ("pen", Decimal("0.10")),
    ]
    [summary] = (await send(ListOrdersQuery(customer_id="alice"))).result
    assert (summary.status, summary.total, summary.item_count) == ("SHIPPED", Decimal("60.07"), 4)


async def test_a_refused_shipment_rolls_back_the_nested_shipment_in_sql(
    ordering: ServiceHost,
) -> None:
    send = ordering.mediator.send
    item = OrderItem(sku="book", quantity=1, unit_price=Decimal("1"))
    order_id = (await send(CreateOrderCommand(customer_id="alice", items=[item]))).result

    with pytest.raises(DomainError, match="is PENDING"):
        await send(ShipOrderCommand(order_id=order_id))

    order = (await send(GetOrderQuery(order_id=order_id))).result
    assert (order.status, order.shipment_id) == ("PENDING", None)


async def test_an_unknown_order_is_named_as_in_memory_not_by_its_table(
    ordering: ServiceHost,
) -> None:
    with pytest.raises(NotFoundError, match=r"^Order 'nope' was not found"):
        await ordering.mediator.send(ShipOrderCommand(order_id="nope"))


async def test_the_merchant_account_exists_from_start_up(
    billing: ServiceHost,
) -> None:
    merchant = (await billing.mediator.send(GetAccountQuery(account_id="merchant"))).result
    assert (merchant.balance, merchant.version) == (Decimal("0.00"), 1)
    [open_merchant_account] = billing.on_start
    await open_merchant_account()  # a second start-up: nothing happens


async def test_payments_commit_the_invoice_and_both_balances_together_in_sql(
    billing: ServiceHost,
) -> None:
    send = billing.mediator.send
    await send(OpenAccountCommand(account_id="alice", balance=Decimal("50")))

    def pay(order_id: str) -> PayInvoiceCommand:
        return PayInvoiceCommand(
            order_id=order_id,
            customer_id="alice",
            amount=Decimal("30"),
            merchant_account="merchant",
        )

    paid = await send(pay("order-1"))
    refused = await send(pay("order-2"))  # 20.00 left: the nested transfer is rolled back

    assert [type(e) for e in paid.events][-1] is PaymentCaptured
    assert [type(e) for e in refused.events][-1] is PaymentFailed
    alice = (await send(GetAccountQuery(account_id="alice"))).result
    merchant = (await send(GetAccountQuery(account_id="merchant"))).result
    assert (alice.balance, merchant.balance) == (Decimal("20.00"), Decimal("30.00"))
    statuses = {i.order_id: i.status for i in (await send(ListInvoicesQuery())).result}
    assert statuses == {"order-1": "PAID", "order-2": "FAILED"}


async def test_opposite_transfers_never_deadlock_on_sql_locks(
    billing: ServiceHost,
) -> None:
    send = billing.mediator.send
    await send(OpenAccountCommand(account_id="alice", balance=Decimal("100")))
    await send(OpenAccountCommand(account_id="bob", balance=Decimal("100")))
    commands = [
        TransferFundsCommand(from_account="alice", to_account="bob", amount=Decimal("1"))
        for _ in range(8)
    ] + [
        TransferFundsCommand(from_account="bob", to_account="alice", amount=Decimal("1"))
        for _ in range(4)
    ]
    random.shuffle(commands)

    await asyncio.wait_for(asyncio.gather(*(send(c) for c in commands)), TIMEOUT)

    alice = (await send(GetAccountQuery(account_id="alice"))).result
    bob = (await send(GetAccountQuery(account_id="bob"))).result
    assert (alice.balance, bob.balance) == (Decimal("96.00"), Decimal("104.00"))
    assert alice.version == 1 + 12  # opened, then changed by every transfer: no lost update
    assert await billing.storage.locks.get_active_locks() == []


async def test_payments_refunds_and_cancellations_at_once_never_deadlock_in_sql(
    billing: ServiceHost,
) -> None:
    # A payment holds its customer's lock, a refund the merchant's, a cancellation the
    # customer's; inside, payments and refunds row-lock the customer and the merchant both, so
    # the merchant is credited and debited at once by commands holding different locks: only
    # the row lock keeps those writes from losing each other (a plain read fails here with a
    # ConcurrencyError). "alice" and "bob" sort before "merchant", "zoe" after.
    send = billing.mediator.send
    customers = ["alice", "bob", "zoe"]
    paid, new = 12, 6  # per customer: payments refunded at once, and new ones, and cancellations
    for customer in customers:
        await send(OpenAccountCommand(account_id=customer, balance=Decimal("100")))

    def pay(order_id: str, customer: str) -> PayInvoiceCommand:
        return PayInvoiceCommand(
            order_id=order_id,
            customer_id=customer,
            amount=Decimal("5"),
            merchant_account="merchant",
        )

    for customer in customers:  # paid before: refunded below
        for n in range(paid):
            await send(pay(f"paid-{customer}-{n}", customer))
    commands: list[Any] = []
    for customer in customers:
        commands += [
            RefundPaymentCommand(
                order_id=f"paid-{customer}-{n}", customer_id=customer, merchant_account="merchant"
            )
            for n in range(paid)
        ]
        commands += [pay(f"new-{customer}-{n}", customer) for n in range(new)]
        commands += [
            RecordOrderCancelledCommand(
                order_id=f"cancelled-{customer}-{n}", customer_id=customer, reason="timed out"
            )
            for n in range(new)
        ]
    random.shuffle(commands)

    await asyncio.wait_for(asyncio.gather(*(send(c) for c in commands)), TIMEOUT)

    for customer in customers:  # every earlier payment refunded, the new ones kept
        account = (await send(GetAccountQuery(account_id=customer))).result
        assert account.balance == Decimal(100 - 5 * new)
    merchant = (await send(GetAccountQuery(account_id="merchant"))).result
    assert merchant.balance == Decimal(5 * new * len(customers))
    statuses = {i.order_id: i.status for i in (await send(ListInvoicesQuery())).result}
    assert statuses == {f"paid-{c}-{n}": "REFUNDED" for c in customers for n in range(paid)} | {
        f"new-{c}-{n}": "PAID" for c in customers for n in range(new)
    }
    assert await billing.storage.locks.get_active_locks() == []
