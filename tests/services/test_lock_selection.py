"""Where billing's locks live, chosen by its settings, and closed when billing stops.

* Without ``LOCK_URL``, on SQL, each command's own transaction holds its locks
  (``LOCK_STORE=transaction``, the default): no lock table, no second file. ``LOCK_STORE=table``
  keeps them as rows: in a file of their own next to a SQLite database, in the ``cqrs_locks``
  table of a PostgreSQL one. A ``memory`` database keeps them in process.
* ``LOCK_URL=redis://...`` puts them in that Redis under ``LOCK_PREFIX``; stopping billing
  closes the strategy's connections (the server sees them go).
* Any other ``LOCK_URL`` stops billing at start, naming the variable - and never echoing the
  URL, which may carry a password.
* ``LOCK_TTL_SECONDS`` is how long billing's locks live.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio
from pydantic import ValidationError

from billing_service import bootstrap as billing
from billing_service.application.commands import OpenAccountCommand, TransferFundsCommand
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.transaction_locks import TransactionLockStrategy
from cqrs_ddd_core.cqrs.scope import unit_of_work_scope
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.isolation import fresh_postgres_database


@pytest.fixture(autouse=True)
def _no_lock_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOCK_URL", "LOCK_STORE", "LOCK_PREFIX", "LOCK_TTL_SECONDS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def billing_on(settings: billing.BillingSettings) -> ServiceHost:
    return billing.build(settings, broker=InMemoryBroker())


async def test_without_lock_url_a_memory_database_keeps_the_locks_in_process() -> None:
    service = billing_on(billing.BillingSettings(database_url="memory"))
    assert type(service.storage.locks) is InMemoryLockStrategy


async def test_without_lock_url_sqlite_locks_are_held_by_each_commands_transaction(
    tmp_path: Path,
) -> None:
    database = tmp_path / "billing.db"
    service = billing_on(billing.BillingSettings(database_url=f"sqlite+aiosqlite:///{database}"))
    try:
        assert type(service.storage.locks) is TransactionLockStrategy
        assert len(service.storage.engines) == 1  # no lock database beside billing's
    finally:
        await service.storage.close()


@pytest.mark.postgres
async def test_without_lock_url_postgresql_locks_are_held_by_each_commands_transaction(
    postgres_url: str,
) -> None:
    async with fresh_postgres_database(postgres_url, "locksel") as url:
        service = billing_on(billing.BillingSettings(database_url=url))
        try:
            assert type(service.storage.locks) is TransactionLockStrategy
            assert len(service.storage.engines) == 1
        finally:
            await service.storage.close()


async def test_lock_store_table_on_sqlite_keeps_the_locks_in_a_file_of_their_own(
    tmp_path: Path,
) -> None:
    database = tmp_path / "billing.db"
    service = billing_on(
        billing.BillingSettings(database_url=f"sqlite+aiosqlite:///{database}", lock_store="table")
    )
    try:
        assert type(service.storage.locks) is SqlAlchemyLockStrategy
        lock_engine = service.storage.engines[1]
        assert lock_engine.url.database == str(database.with_suffix(".locks.db"))
    finally:
        await service.storage.close()


@pytest.mark.postgres
async def test_lock_store_table_on_postgresql_keeps_the_locks_in_billings_database(
    postgres_url: str,
) -> None:
    async with fresh_postgres_database(postgres_url, "locksel") as url:
        service = billing_on(billing.BillingSettings(database_url=url, lock_store="table"))
        try:
            assert type(service.storage.locks) is SqlAlchemyLockStrategy
            assert len(service.storage.engines) == 1  # the locks table sits with the rest
        finally:
            await service.storage.close()


@pytest.mark.redis
async def test_a_redis_lock_url_puts_billings_locks_in_redis_under_its_prefix(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}billing-{uuid.uuid4().hex[:8]}:"  # this test's keys alone
    monkeypatch.setenv("LOCK_URL", redis_url)
    monkeypatch.setenv("LOCK_PREFIX", prefix)
    service = billing_on(billing.BillingSettings(database_url="memory"))
    await service.start()
    try:
        assert type(service.storage.locks) is RedisLockStrategy
        await service.mediator.send(OpenAccountCommand(account_id="alice", balance=Decimal(10)))
        async with held_transfer(service, "alice"), redis_client(redis_url) as client:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        assert keys == [f"{prefix}Account:alice".encode()]  # the account money leaves
    finally:
        await service.stop()


@pytest.mark.redis
async def test_stopping_billing_closes_its_connections_to_redis(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    name = f"billing-locks-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("LOCK_URL", f"{redis_url}?client_name={name}")
    monkeypatch.setenv("LOCK_PREFIX", redis_prefix)
    service = billing_on(billing.BillingSettings(database_url="memory"))
    await service.start()
    await service.mediator.send(OpenAccountCommand(account_id="bob", balance=Decimal(10)))
    await service.mediator.send(
        TransferFundsCommand(from_account="bob", to_account="merchant", amount=1)
    )
    async with redis_client(redis_url) as client:
        assert await connections_named(client, name) > 0  # the transfer's locks used one

        await service.stop()

        assert await connections_named(client, name) == 0


def test_a_lock_url_that_is_not_redis_stops_billing_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCK_URL", "postgresql://billing:s3cret@db/billing")
    with pytest.raises(ValidationError) as refused:
        billing.BillingSettings()
    message = str(refused.value)
    assert "LOCK_URL must be a redis:// or rediss:// URL, got the scheme 'postgresql'" in message
    assert "s3cret" not in message


def test_a_lock_url_without_a_scheme_is_refused_too() -> None:
    with pytest.raises(ValidationError, match=r"LOCK_URL must be .* got no scheme"):
        billing.BillingSettings(lock_url="127.0.0.1:6379")


def test_rediss_names_a_redis_server_over_tls() -> None:
    settings = billing.BillingSettings(lock_url="rediss://cache.internal:6380/0")
    assert settings.lock_url == "rediss://cache.internal:6380/0"


async def test_lock_ttl_seconds_is_how_long_billings_locks_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCK_TTL_SECONDS", "4")
    service = billing_on(billing.BillingSettings(database_url="memory"))
    await service.start()  # opens the merchant account
    try:
        await service.mediator.send(OpenAccountCommand(account_id="carol", balance=Decimal(10)))
        async with held_transfer(service, "carol"):
            locks = await service.storage.locks.get_active_locks()
    finally:
        await service.stop()
    assert {lock.resource for lock in locks} == {ResourceIdentifier("Account", "carol")}
    for lock in locks:
        assert 3.0 < lock.expires_at.timestamp() - time.time() <= 4.0


def test_lock_ttl_seconds_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="lock_ttl_seconds"):
        billing.BillingSettings(lock_ttl_seconds=0)


@asynccontextmanager
async def held_transfer(service: ServiceHost, customer: str) -> AsyncIterator[None]:
    """A transfer sent inside an open unit of work, as billing's consumer sends a payment: its
    locks stay held until the unit of work ends, at the end of the ``async with`` block."""
    uow = service.storage.uow_factory()
    async with uow:
        with unit_of_work_scope(uow, session_id=new_id()):
            await service.mediator.send(
                TransferFundsCommand(from_account=customer, to_account="merchant", amount=1)
            )
            yield


@asynccontextmanager
async def redis_client(url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(url)
    try:
        yield client
    finally:
        await client.aclose()


async def connections_named(client: redis.asyncio.Redis, name: str) -> int:
    """How many connections the server has open for clients called ``name``."""
    return sum(1 for entry in await client.client_list() if entry.get("name") == name)


def test_lock_store_is_transaction_or_table() -> None:
    with pytest.raises(ValidationError, match="lock_store"):
        billing.BillingSettings(lock_store="redis")
