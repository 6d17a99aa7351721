"""The `IOutboxStorage` contract, unchanged, on `SqlAlchemyOutboxStorage`: SQLite and PostgreSQL.

The suite is the one the in-memory storage passes (tests/messaging/contracts.py); the rows
are written in a `SqlAlchemyUnitOfWork` on the same database.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.messaging.contracts import Backend, OutboxStorageContract
from tests.messaging.support import OffsetClock


@pytest.fixture
def outbox_backend(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    outbox_clock: OffsetClock,
) -> Backend:
    storage = SqlAlchemyOutboxStorage(engine, clock=outbox_clock)
    return storage, lambda: SqlAlchemyUnitOfWork(session_factory)


class TestSqlAlchemyOutboxStorage(OutboxStorageContract):
    pass
