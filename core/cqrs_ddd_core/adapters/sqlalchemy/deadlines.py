"""`SqlAlchemyDeadlineStorage`: durable deadlines as a table, on SQLite and PostgreSQL.

The outbox's design, applied to time. `schedule` and `cancel` write in the **caller's
transaction** (the order and its payment deadline commit together, or neither does), and
`claim_due` is one statement any number of schedulers in any number of processes may run::

    UPDATE cqrs_deadlines SET claim_token = :token, lease_expires_at = :now + lease, ...
    WHERE deadline_id IN (SELECT deadline_id FROM cqrs_deadlines
                          WHERE status = 'pending' AND due_at <= :now AND <not leased>
                          ORDER BY due_at LIMIT :n FOR UPDATE SKIP LOCKED)
    RETURNING *

A claimed deadline stays ``pending`` with a lease: if its scheduler dies before `mark_fired`,
the lease runs out and another scheduler fires it - at least once, so what a deadline does
must be harmless the second time (the process manager's state makes it so). A partial index
over the pending rows keeps the claim cheap however many deadlines have fired.

The table is optional, like the feature: it lives on `deadlines_metadata`, not on the core's
always-present tables, and its migration (``core_0002``, on the core's branch right after
``core_0001``) sits in ``migrations/deadlines/`` - a service that uses deadlines adds
`DEADLINES_VERSIONS` to its migrations (``StorageRecipe(deadlines=True)`` does it).
Contract tests: tests/deadlines/test_deadline_storage.py. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
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
from cqrs_ddd_core.adapters.sqlalchemy.schema import NAMING_CONVENTION
from cqrs_ddd_core.adapters.sqlalchemy.types import UtcDateTime
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import session_for
from cqrs_ddd_core.ports.deadlines import Deadline, DeadlineStatus, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id

DEADLINES_VERSIONS = Path(__file__).with_name("migrations") / "deadlines"
"""The migration of `deadlines_table`: add it to a service's migrations to use deadlines."""

deadlines_metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Written out, not bound, so the databases use the partial index (see outbox.py).
PENDING = "status = 'pending'"

deadlines_table = Table(
    "cqrs_deadlines",
    deadlines_metadata,
    Column("deadline_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("deadline_key", String(255), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("causation_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("claim_token", String(64), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    # The schedulers look for due pending rows, soonest first; fired and cancelled rows stay out.
    Index(
        "ix_cqrs_deadlines_pending",
        "due_at",
        "deadline_id",
        postgresql_where=text(PENDING),
        sqlite_where=text(PENDING),
    ),
    Index("ix_cqrs_deadlines_name_key", "name", "deadline_key"),
)


# What every order's path runs, built once: a call only binds its values, so SQLAlchemy
# neither rebuilds the expression nor recomputes the cache key of its compiled SQL.
INSERT_DEADLINE = insert(deadlines_table)
CANCEL_PENDING = (
    update(deadlines_table)
    .where(
        deadlines_table.c.name == bindparam("pending_name"),
        deadlines_table.c.deadline_key == bindparam("pending_key"),
        deadlines_table.c.status == DeadlineStatus.PENDING.value,
    )
    .values(status=DeadlineStatus.CANCELLED.value, claim_token=None, lease_expires_at=None)
)


class SqlAlchemyDeadlineStorage(IDeadlineStorage):
    """Deadlines in ``cqrs_deadlines`` of ``engine``'s database (the service's own).

    ``clock`` decides what "now" is for due times and leases; tests move it.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._reader = read_only(engine)
        self._clock = clock

    async def schedule(self, deadline: Deadline, *, uow: UnitOfWork | None = None) -> None:
        row = _to_row(deadline)
        session = session_for(uow, self._engine, "SqlAlchemyDeadlineStorage")
        if session is not None:
            await session.execute(INSERT_DEADLINE, row)
            return
        async with self._engine.begin() as connection:
            await connection.execute(INSERT_DEADLINE, row)

    async def cancel(self, name: str, key: str, *, uow: UnitOfWork | None = None) -> int:
        params = {"pending_name": name, "pending_key": key}
        session = session_for(uow, self._engine, "SqlAlchemyDeadlineStorage")
        if session is not None:
            return _rowcount(await session.execute(CANCEL_PENDING, params))
        async with self._engine.begin() as connection:
            return _rowcount(await connection.execute(CANCEL_PENDING, params))

    # --8<-- [start:claim]
    async def claim_due(self, batch_size: int, *, lease_seconds: float) -> list[Deadline]:
        t = deadlines_table
        now = self._clock()
        candidates = (
            select(t.c.deadline_id)
            .where(
                text(PENDING),
                t.c.due_at <= now,
                or_(t.c.lease_expires_at.is_(None), t.c.lease_expires_at <= now),
            )
            .order_by(t.c.due_at, t.c.deadline_id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(t)
            .where(t.c.deadline_id.in_(candidates))
            .values(
                claim_token=new_id(),
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=t.c.attempts + 1,
            )
            .returning(*t.c)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(claim)).mappings().all()
        claimed = [_from_row(row) for row in rows]
        claimed.sort(key=lambda deadline: (deadline.due_at, deadline.deadline_id))
        return claimed

    # --8<-- [end:claim]

    async def mark_fired(self, deadline_id: str, claim_token: str) -> bool:
        return await self._update_held(
            deadline_id, claim_token, status=DeadlineStatus.FIRED.value, fired_at=self._clock()
        )

    async def release(
        self, deadline_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        return await self._update_held(deadline_id, claim_token, due_at=retry_at, last_error=error)

    async def get(self, deadline_id: str) -> Deadline | None:
        t = deadlines_table
        async with self._reader.connect() as connection:
            result = await connection.execute(select(t).where(t.c.deadline_id == deadline_id))
            row = result.mappings().one_or_none()
        return None if row is None else _from_row(row)

    async def find(self, name: str, key: str) -> list[Deadline]:
        t = deadlines_table
        async with self._reader.connect() as connection:
            result = await connection.execute(
                select(t)
                .where(t.c.name == name, t.c.deadline_key == key)
                .order_by(t.c.created_at, t.c.deadline_id)
            )
            rows = result.mappings().all()
        return [_from_row(row) for row in rows]

    async def count_by_status(self) -> dict[DeadlineStatus, int]:
        t = deadlines_table
        async with self._reader.connect() as connection:
            result = await connection.execute(select(t.c.status, func.count()).group_by(t.c.status))
            found = {str(status): int(count) for status, count in result.all()}
        return {status: found.get(status.value, 0) for status in DeadlineStatus}

    async def _update_held(self, deadline_id: str, claim_token: str, **values: Any) -> bool:
        """Update the deadline if still pending and held under ``claim_token``."""
        t = deadlines_table
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(t)
                .where(
                    t.c.deadline_id == deadline_id,
                    t.c.status == DeadlineStatus.PENDING.value,
                    t.c.claim_token == claim_token,
                )
                .values(**values, claim_token=None, lease_expires_at=None)
            )
        return _rowcount(result) == 1


def _to_row(deadline: Deadline) -> dict[str, Any]:
    return {
        "deadline_id": deadline.deadline_id,
        "name": deadline.name,
        "deadline_key": deadline.key,
        "due_at": deadline.due_at,
        "payload": deadline.payload,
        "correlation_id": deadline.correlation_id,
        "causation_id": deadline.causation_id,
        "status": deadline.status.value,
        "attempts": deadline.attempts,
        "last_error": deadline.last_error,
        "claim_token": deadline.claim_token,
        "lease_expires_at": deadline.lease_expires_at,
        "created_at": deadline.created_at,
        "fired_at": deadline.fired_at,
    }


def _from_row(row: RowMapping) -> Deadline:
    return Deadline(
        name=row["name"],
        key=row["deadline_key"],
        due_at=row["due_at"],
        payload=row["payload"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        deadline_id=row["deadline_id"],
        status=DeadlineStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        claim_token=row["claim_token"],
        lease_expires_at=row["lease_expires_at"],
        created_at=row["created_at"],
        fired_at=row["fired_at"],
    )


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
