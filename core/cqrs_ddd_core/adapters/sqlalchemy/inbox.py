"""`SqlAlchemyInboxStorage`: the idempotent receiver's memory, as a table.

A row ``(message_id, consumer)`` says "this consumer has processed this message". The thing to
notice: the row is inserted in the **consumer's unit of work**, the same transaction as the
message's effect, so the effect and the record commit together or not at all.

The insert is ``INSERT ... ON CONFLICT DO NOTHING``. When another copy of the message was
processed first, nothing is inserted: `mark_processed` raises `AlreadyProcessedError` (a
`ConcurrencyError`), so the handler's effect is rolled back with the rest of the unit of work
and the redelivered copy is skipped later; `mark_processed_if_new`, made before the handlers
run, returns False - the check and the record in one statement. On PostgreSQL a copy being
processed *at the same moment* makes our insert wait for the other transaction, then find its
row; on SQLite the two transactions never overlap at all.
Contract tests: tests/persistence/test_inbox_storage.py.
Guide: docs/patterns/inbox-and-dead-letters.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, Table, bindparam, delete, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from cqrs_ddd_core.adapters.sqlalchemy.engine import insert_for, read_only
from cqrs_ddd_core.adapters.sqlalchemy.schema import core_metadata, require_table
from cqrs_ddd_core.adapters.sqlalchemy.types import UtcDateTime
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import session_for
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError

inbox_table = Table(
    "cqrs_inbox",
    core_metadata,
    Column("message_id", String(64), primary_key=True),
    Column("consumer", String(255), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)


HAS_PROCESSED = select(
    exists().where(
        inbox_table.c.message_id == bindparam("seen_id"),
        inbox_table.c.consumer == bindparam("seen_by"),
    )
)


class SqlAlchemyInboxStorage(IInboxStorage):
    """Processed message ids per consumer in ``cqrs_inbox`` of ``engine``'s database."""

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._reader = read_only(engine)
        self._clock = clock
        # Built once, bound per message: no expression or cache key to rebuild each time.
        insert = insert_for(engine.dialect.name)
        self._record_statement = insert(inbox_table).on_conflict_do_nothing()

    async def verify(self) -> None:
        await require_table(self._engine, inbox_table, "SqlAlchemyInboxStorage")

    async def has_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> bool:
        params = {"seen_id": message_id, "seen_by": consumer}
        session = session_for(uow, self._engine, "SqlAlchemyInboxStorage")
        if session is not None:
            return bool((await session.execute(HAS_PROCESSED, params)).scalar())
        async with self._reader.connect() as connection:
            return bool((await connection.execute(HAS_PROCESSED, params)).scalar())

    async def mark_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> None:
        session = session_for(uow, self._engine, "SqlAlchemyInboxStorage")
        if session is not None:
            await self._record(session, message_id, consumer)
            return
        async with self._engine.begin() as connection:
            await self._record(connection, message_id, consumer)

    async def mark_processed_if_new(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> bool:
        """One statement: the insert that skips an existing row says which case this is."""
        session = session_for(uow, self._engine, "SqlAlchemyInboxStorage")
        row = {"message_id": message_id, "consumer": consumer, "processed_at": self._clock()}
        if session is not None:
            return _rowcount(await session.execute(self._record_statement, row)) == 1
        async with self._engine.begin() as connection:
            return _rowcount(await connection.execute(self._record_statement, row)) == 1

    async def purge_processed(self, before: datetime, *, limit: int = 1000) -> int:
        t = inbox_table
        old = select(t.c.message_id, t.c.consumer).where(t.c.processed_at < before).limit(limit)
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(t).where(tuple_(t.c.message_id, t.c.consumer).in_(old))
            )
        return _rowcount(result)

    async def _record(
        self, executor: AsyncSession | AsyncConnection, message_id: str, consumer: str
    ) -> None:
        row = {"message_id": message_id, "consumer": consumer, "processed_at": self._clock()}
        result = await executor.execute(self._record_statement, row)
        if _rowcount(result) != 1:
            raise AlreadyProcessedError(message_id, consumer)


class AlreadyProcessedError(ConcurrencyError):
    """Another delivery of the message was processed by this consumer first."""

    def __init__(self, message_id: str, consumer: str) -> None:
        super().__init__("Message", message_id, expected_version=0)
        self.consumer = consumer
        self.args = (
            f"Message {message_id!r} was processed by consumer {consumer!r} already (another "
            f"delivery of it committed first); this delivery's effect is rolled back, and "
            f"the next delivery is skipped",
        )


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
