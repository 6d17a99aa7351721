"""A forgotten migration stops a component when it starts, naming the missing table.

Without the check, the relay's loop would only log each failed batch while the rows stayed
pending, and a consumer would fail every delivery; here `start()` raises `MissingTableError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage, outbox_table
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.primitives.exceptions import MissingTableError
from tests.persistence.databases import sqlite_url


@pytest.fixture
async def bare_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite file on which no migration ever ran."""
    engine = create_engine(sqlite_url(tmp_path))
    yield engine
    await engine.dispose()


async def test_an_outbox_without_its_table_refuses_to_start(bare_engine: AsyncEngine) -> None:
    outbox = BufferedOutbox(SqlAlchemyOutboxStorage(bare_engine), InMemoryBroker())

    with pytest.raises(MissingTableError, match=r"'cqrs_outbox'.*run the migrations"):
        await outbox.start()

    assert not outbox.running


async def test_an_outbox_whose_locks_table_is_missing_refuses_to_start(
    bare_engine: AsyncEngine,
) -> None:
    async with bare_engine.begin() as connection:
        await connection.run_sync(outbox_table.create)
    outbox = BufferedOutbox(
        SqlAlchemyOutboxStorage(bare_engine),
        InMemoryBroker(),
        lock_strategy=SqlAlchemyLockStrategy(bare_engine),
    )

    with pytest.raises(
        MissingTableError, match=r"SqlAlchemyLockStrategy needs the table 'cqrs_locks'"
    ):
        await outbox.start()

    assert not outbox.running


async def test_a_consumer_whose_inbox_table_is_missing_refuses_to_start(
    bare_engine: AsyncEngine,
) -> None:
    consumer = BaseEventConsumer(
        broker=InMemoryBroker(),
        topics=["Shelved"],
        inbox=SqlAlchemyInboxStorage(bare_engine),
        uow_factory=InMemoryUnitOfWork,
    )

    with pytest.raises(MissingTableError, match=r"'cqrs_inbox'"):
        await consumer.start()


async def test_after_the_migrations_the_same_outbox_starts(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine)
    outbox = BufferedOutbox(
        SqlAlchemyOutboxStorage(bare_engine),
        InMemoryBroker(),
        lock_strategy=SqlAlchemyLockStrategy(bare_engine),
    )

    await outbox.start()
    try:
        assert outbox.running
    finally:
        await outbox.stop()
