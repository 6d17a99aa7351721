"""The `IInboxStorage` contract, unchanged, on `SqlAlchemyInboxStorage`: SQLite and PostgreSQL.

The suite is the one the in-memory storage passes (tests/messaging/contracts.py); records are
written in a `SqlAlchemyUnitOfWork` on the same database.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.messaging.contracts import Backend, InboxStorageContract
from tests.messaging.support import OffsetClock


@pytest.fixture
def inbox_backend(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    outbox_clock: OffsetClock,
) -> Backend:
    storage = SqlAlchemyInboxStorage(engine, clock=outbox_clock)
    return storage, lambda: SqlAlchemyUnitOfWork(session_factory)


class TestSqlAlchemyInboxStorage(InboxStorageContract):
    pass
