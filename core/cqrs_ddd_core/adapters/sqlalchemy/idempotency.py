"""`SqlAlchemyIdempotencyStorage`: stored responses as a table, on SQLite and PostgreSQL.

A row ``(caller, idempotency_key)`` holds the response a request got. The thing to notice is
the primary key: it is what makes two concurrent requests with one key safe, on every
database and across replicas. `save` runs in the request's transaction::

    INSERT INTO cqrs_idempotency_keys (...) VALUES (...)
    ON CONFLICT (caller, idempotency_key) DO UPDATE SET ... WHERE expires_at <= :now

One row changed: the record is ours (new, or replacing an expired one). None: an unexpired
record exists - on PostgreSQL the insert first *waits* for a transaction that inserted the
same key and has not committed yet, then sees its row; on SQLite that transaction had the
write lock and committed before ours began. Either way the caller rolls its effects back.

Expired rows are deleted by the `save`s themselves (`purge_expired`, a hundred at a time,
skipping rows another transaction has locked), so nothing else has to run for them.
Contract tests: tests/idempotency/test_idempotency_storage.py.
Guide: docs/patterns/idempotency.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    select,
    tuple_,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import insert_for, read_only
from cqrs_ddd_core.adapters.sqlalchemy.schema import core_metadata
from cqrs_ddd_core.adapters.sqlalchemy.types import UtcDateTime
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import session_for
from cqrs_ddd_core.ports.idempotency import (
    DEFAULT_TTL,
    PURGE_BATCH,
    IdempotencyRecord,
    IIdempotencyStorage,
    RecordedResponse,
)
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError

idempotency_table = Table(
    "cqrs_idempotency_keys",
    core_metadata,
    Column("caller", String(255), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # The purge looks for the oldest expiries.
    Index("ix_cqrs_idempotency_keys_expires_at", "expires_at"),
)


class SqlAlchemyIdempotencyStorage(IIdempotencyStorage):
    """Responses by ``(caller, key)`` in ``cqrs_idempotency_keys`` of ``engine``'s database.

    ``clock`` decides what "now" is for expiry; tests move it.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._reader = read_only(engine)
        self.ttl = ttl
        self._clock = clock
        self._insert = insert_for(engine.dialect.name)

    async def find(self, caller: str, key: str) -> IdempotencyRecord | None:
        t = idempotency_table
        query = select(t).where(
            t.c.caller == caller, t.c.idempotency_key == key, t.c.expires_at > self._clock()
        )
        async with self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().one_or_none()
        return None if row is None else _from_row(row)

    # --8<-- [start:save]
    async def save(
        self,
        caller: str,
        key: str,
        fingerprint: str,
        response: RecordedResponse,
        *,
        uow: UnitOfWork | None = None,
    ) -> bool:
        t = idempotency_table
        now = self._clock()
        row = {
            "caller": caller,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "status_code": response.status_code,
            "media_type": response.media_type,
            "body": response.body,
            "created_at": now,
            "expires_at": now + self.ttl,
        }
        upsert = self._insert(t).values(row)
        # Only an expired record gives way; a live one leaves the row untouched (no row counted).
        upsert = upsert.on_conflict_do_update(
            index_elements=[t.c.caller, t.c.idempotency_key],
            set_={name: upsert.excluded[name] for name in row},
            where=t.c.expires_at <= now,
        )
        session = self._session(uow)
        stored = _rowcount(await session.execute(upsert)) == 1
        if stored:
            await self.purge_expired(uow=uow)
        return stored
        # --8<-- [end:save]

    async def purge_expired(
        self, *, limit: int = PURGE_BATCH, uow: UnitOfWork | None = None
    ) -> int:
        t = idempotency_table
        expired = (
            select(t.c.caller, t.c.idempotency_key)
            .where(t.c.expires_at <= self._clock())
            .order_by(t.c.expires_at)
            .limit(limit)
            # Rows another request is replacing or purging are left to it: never a wait.
            .with_for_update(skip_locked=True)
        )
        statement = delete(t).where(tuple_(t.c.caller, t.c.idempotency_key).in_(expired))
        if session_for(uow, self._engine, "SqlAlchemyIdempotencyStorage") is None:
            async with self._engine.begin() as connection:
                return _rowcount(await connection.execute(statement))
        return _rowcount(await self._session(uow).execute(statement))

    def _session(self, uow: UnitOfWork | None) -> Any:
        session = session_for(uow, self._engine, "SqlAlchemyIdempotencyStorage")
        if session is None:
            raise UnitOfWorkError(
                "SqlAlchemyIdempotencyStorage.save stores a response in the transaction of "
                "its request's command: call it inside a unit of work"
            )
        return session


def _from_row(row: RowMapping) -> IdempotencyRecord:
    return IdempotencyRecord(
        caller=row["caller"],
        key=row["idempotency_key"],
        fingerprint=row["fingerprint"],
        response=RecordedResponse(
            status_code=row["status_code"], body=bytes(row["body"]), media_type=row["media_type"]
        ),
        expires_at=row["expires_at"],
    )


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
