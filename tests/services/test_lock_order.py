"""On SQLite, payments arriving by message and HTTP deposits never wait on each other's locks.

SQLite has one writer per file: a transaction holds the write lock from its first statement.
A consumer that opened its transaction before the payment took its account locks would hold
the database while waiting for an account, while a deposit holds the account and waits for
the database - each stalls until a timeout. With the lock table (kept in a file of its own)
the consumer checks its inbox in a short read of its own and a nested command opens no
savepoint before its first statement, so both paths take the account locks first and the
database second. With the transaction's own locks (billing's default) there is no second lock
to take in the wrong order, and the inbox check is the transaction's first read. Both run here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from billing_service import bootstrap
from billing_service.application.commands import DepositCommand, OpenAccountCommand
from billing_service.application.integration_events import OrderCreated
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker

pytestmark = pytest.mark.slow

ACCOUNTS = ("c0", "c1", "c2")
RUN_FOR = 3.0


@pytest.fixture(params=["table", "transaction"])
async def billing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[ServiceHost, InMemoryBroker]]:
    broker = InMemoryBroker()
    broker.declare_queue("sink", ["PaymentCaptured", "PaymentFailed", "notifications.#"])
    settings = bootstrap.BillingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", lock_store=request.param
    )
    service = bootstrap.build(settings, broker=broker)
    # Where the consumer checks its inbox follows where the locks are held.
    assert service.consumers[0].check_inbox_inside is (request.param == "transaction")
    await service.start()
    try:
        yield service, broker
    finally:
        await broker.drain(timeout=30)
        await service.stop()
        await broker.stop()


async def test_payments_by_message_and_deposits_never_stall_each_other(
    billing: tuple[ServiceHost, InMemoryBroker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, broker = billing
    for account in ACCOUNTS:
        await service.mediator.send(OpenAccountCommand(account_id=account, balance=Decimal(1000)))
    started = time.monotonic()

    async def deposits(offset: int) -> None:
        n = offset
        while time.monotonic() - started < RUN_FOR:
            n += 1
            # A stall ends in a lock timeout: raised here, or a redelivery of the payment.
            await service.mediator.send(
                DepositCommand(account_id=ACCOUNTS[n % 3], amount=Decimal(1))
            )

    async def orders() -> int:
        n = 0
        while time.monotonic() - started < RUN_FOR:
            n += 1
            event = OrderCreated(
                aggregate_id=f"o{n}", order_id=f"o{n}", customer_id=ACCOUNTS[n % 3], total=1
            )
            await broker.publish("OrderCreated", event)
            await asyncio.sleep(0.01)
        return n

    with caplog.at_level(logging.WARNING):
        *_, published = await asyncio.wait_for(
            asyncio.gather(deposits(0), deposits(1), orders()), timeout=60
        )
        await broker.drain(timeout=30)

    redelivered = [r.getMessage() for r in caplog.records if "redeliver" in r.getMessage()]
    assert redelivered == []
    assert service.consumers[0].processed == published
