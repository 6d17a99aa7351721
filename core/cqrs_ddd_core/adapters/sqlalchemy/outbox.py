"""`SqlAlchemyOutboxStorage`: the transactional outbox as a table, on SQLite and PostgreSQL.

Two things to notice.

* `save` writes in the **caller's transaction**: the session of the current
  `SqlAlchemyUnitOfWork`. The order row and its outbox row commit together, or neither does.
  Outside a unit of work the rows are stored in a short transaction of their own.
* `claim_batch` is **one statement**, safe with any number of relays in any number of
  processes::

      UPDATE cqrs_outbox SET status = 'claimed', claim_token = :token, ...
      WHERE message_id IN (SELECT message_id FROM cqrs_outbox WHERE <due>
                           ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED)
      RETURNING *

  On PostgreSQL ``FOR UPDATE SKIP LOCKED`` makes concurrent relays take different rows
  instead of waiting on each other. SQLite has no row locks and ignores that clause; there the
  ``BEGIN IMMEDIATE`` of every transaction (see `create_engine`) runs the claims one after
  the other, each one atomic. A partial index over the unfinished rows keeps a claim as cheap
  after a million published rows as after ten.

Every other method is one short transaction too, and only touches rows still held under the
caller's ``claim_token`` - a relay whose lease expired cannot overwrite its successor's work.
Contract tests: tests/persistence/test_outbox_storage.py. Guide: docs/components/outbox.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import read_only
from cqrs_ddd_core.adapters.sqlalchemy.schema import core_metadata, require_table
from cqrs_ddd_core.adapters.sqlalchemy.types import UtcDateTime
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import session_for
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus, utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id

# Written out, not bound: the databases use a partial index only for a query whose WHERE
# visibly implies the index's (SQLite: the very same term).
UNFINISHED = "status IN ('pending', 'failed', 'claimed')"


outbox_table = Table(
    "cqrs_outbox",
    core_metadata,
    Column("message_id", String(64), primary_key=True),
    Column("topic", String(255), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("causation_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("claim_token", String(64), nullable=True),
    Column("published_at", UtcDateTime, nullable=True),
    Column("headers", JSON, nullable=True),
    # The relays look for due rows, oldest first. Partial: rows that are done (published or
    # dead) stay out of it, so claiming costs the same however many rows were published.
    Index(
        "ix_cqrs_outbox_unfinished",
        "created_at",
        "message_id",
        postgresql_where=text(UNFINISHED),
        sqlite_where=text(UNFINISHED),
    ),
)


class SqlAlchemyOutboxStorage(IOutboxStorage):
    """Outbox rows in ``cqrs_outbox`` of ``engine``'s database (the service's own).

    ``clock`` decides what "now" is for leases and retries; tests move it.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._reader = read_only(engine)
        self._clock = clock

    async def verify(self) -> None:
        await require_table(self._engine, outbox_table, "SqlAlchemyOutboxStorage")

    async def save(
        self, messages: Sequence[OutboxMessage], *, uow: UnitOfWork | None = None
    ) -> None:
        if not messages:
            return
        rows = [_to_row(message) for message in messages]
        session = session_for(uow, self._engine, "SqlAlchemyOutboxStorage")
        if session is not None:
            await session.execute(INSERT_ROWS, rows)
            return
        async with self._engine.begin() as connection:
            await connection.execute(INSERT_ROWS, rows)

    async def claim_batch(self, batch_size: int, *, lease_seconds: float) -> list[OutboxMessage]:
        t = outbox_table
        now = self._clock()
        due = or_(
            t.c.status == OutboxStatus.PENDING.value,
            and_(t.c.status == OutboxStatus.FAILED.value, t.c.next_attempt_at <= now),
            and_(t.c.status == OutboxStatus.CLAIMED.value, t.c.lease_expires_at <= now),
        )
        candidates = (
            select(t.c.message_id)
            .where(text(UNFINISHED), due)
            .order_by(t.c.created_at, t.c.message_id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(t)
            .where(t.c.message_id.in_(candidates))
            .values(
                status=OutboxStatus.CLAIMED.value,
                claim_token=new_id(),
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=t.c.attempts + 1,
            )
            .returning(*t.c)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(claim)).mappings().all()
        # RETURNING promises no order.
        claimed = [_from_row(row) for row in rows]
        claimed.sort(key=lambda message: (message.created_at, message.message_id))
        return claimed

    async def mark_published(self, message_ids: Sequence[str], claim_token: str) -> int:
        if not message_ids:
            return 0
        return await self._update_held(
            message_ids,
            claim_token,
            status=OutboxStatus.PUBLISHED.value,
            published_at=self._clock(),
        )

    async def mark_failed(
        self, message_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        marked = await self._update_held(
            [message_id],
            claim_token,
            status=OutboxStatus.FAILED.value,
            last_error=error,
            next_attempt_at=retry_at,
        )
        return marked == 1

    async def mark_dead(self, message_id: str, claim_token: str, *, error: str) -> bool:
        marked = await self._update_held(
            [message_id], claim_token, status=OutboxStatus.DEAD.value, last_error=error
        )
        return marked == 1

    async def get(self, message_id: str) -> OutboxMessage | None:
        t = outbox_table
        async with self._reader.connect() as connection:
            result = await connection.execute(select(t).where(t.c.message_id == message_id))
            row = result.mappings().one_or_none()
        return None if row is None else _from_row(row)

    async def list_dead(self, limit: int = 100) -> list[OutboxMessage]:
        t = outbox_table
        async with self._reader.connect() as connection:
            result = await connection.execute(
                select(t)
                .where(t.c.status == OutboxStatus.DEAD.value)
                .order_by(t.c.created_at, t.c.message_id)
                .limit(limit)
            )
            rows = result.mappings().all()
        return [_from_row(row) for row in rows]

    async def redrive(self, message_id: str) -> bool:
        t = outbox_table
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(t)
                .where(t.c.message_id == message_id, t.c.status == OutboxStatus.DEAD.value)
                .values(
                    status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=self._clock()
                )
            )
        return _rowcount(result) == 1

    async def count_by_status(self) -> dict[OutboxStatus, int]:
        t = outbox_table
        async with self._reader.connect() as connection:
            result = await connection.execute(select(t.c.status, func.count()).group_by(t.c.status))
            found = {str(status): int(count) for status, count in result.all()}
        return {status: found.get(status.value, 0) for status in OutboxStatus}

    async def backlog(self) -> tuple[int, datetime | None]:
        t = outbox_table
        query = select(func.count(), func.min(t.c.created_at)).where(text(UNFINISHED))
        async with self._reader.connect() as connection:
            count, oldest = (await connection.execute(query)).one()
        return int(count), oldest

    async def purge_published(self, before: datetime, *, limit: int = 1000) -> int:
        t = outbox_table
        # Bounded: one short transaction per batch, so writers (SQLite has one) wait little.
        old = (
            select(t.c.message_id)
            .where(t.c.status == OutboxStatus.PUBLISHED.value, t.c.published_at < before)
            .limit(limit)
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(t).where(t.c.message_id.in_(old)))
        return _rowcount(result)

    async def _update_held(
        self, message_ids: Sequence[str], claim_token: str, **values: Any
    ) -> int:
        """Update the rows still claimed under ``claim_token``; how many there were."""
        params = {**values, "claim_token": None, "lease_expires_at": None}
        async with self._engine.begin() as connection:
            result = await connection.execute(
                UPDATE_HELD, {**params, "held_ids": list(message_ids), "held_by": claim_token}
            )
        return _rowcount(result)


# The two statements of every message's path, built once: a call only binds its values, so
# SQLAlchemy neither rebuilds the expression nor recomputes the cache key of its compiled SQL.
INSERT_ROWS = insert(outbox_table)

UPDATE_HELD = update(outbox_table).where(
    outbox_table.c.message_id.in_(bindparam("held_ids", expanding=True)),
    outbox_table.c.status == OutboxStatus.CLAIMED.value,
    outbox_table.c.claim_token == bindparam("held_by"),
)
"""Sets the columns its values name, on the rows still claimed under ``:held_by``."""


def _to_row(message: OutboxMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "topic": message.topic,
        "payload": message.payload,
        "correlation_id": message.correlation_id,
        "causation_id": message.causation_id,
        "status": message.status.value,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at,
        "lease_expires_at": message.lease_expires_at,
        "claim_token": message.claim_token,
        "published_at": message.published_at,
        "headers": message.headers,
    }


def _from_row(row: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        topic=row["topic"],
        payload=row["payload"],
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        lease_expires_at=row["lease_expires_at"],
        claim_token=row["claim_token"],
        published_at=row["published_at"],
        headers=row["headers"],
    )


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
