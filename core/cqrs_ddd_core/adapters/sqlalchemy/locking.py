"""`SqlAlchemyLockStrategy`: pessimistic locks shared by every process of a service.

A lock is a row of ``cqrs_locks`` in the service's own database: resource key, owner token,
session, hold count and expiry. The thing to notice is that each lock operation is one short
transaction of its own, on its own connection - never the caller's unit of work - so a lock is
visible to every other process the moment it is taken, and gone the moment it is released.

Taking a lock is three statements in one transaction: delete the row if its ttl has run out
(its holder vanished), insert a row unless one exists (``INSERT ... ON CONFLICT DO NOTHING``),
or else bump the hold count if our session owns it. On SQLite the transaction starts with
``BEGIN IMMEDIATE`` (see `create_engine`), on PostgreSQL the primary key arbitrates: either
way two processes can never both insert. Waiting is polling with a growing, jittered pause,
bounded by ``timeout``. Inside one process, waiters first queue on an `InMemoryLockStrategy`
(FIFO, same ttl and sessions), so only the head of each local queue polls the database -
two hundred waiting tasks cost the database one poller per resource, not two hundred.
Across processes the order is whoever polls first, not FIFO. A session re-entering a lock it
holds from this process (a nested command) is counted in this process only, while the row
has at least half the requested ttl left: no round trip for what no one else can observe.

SQLite has one writer per file: while a unit of work holds that file's write lock, a lock
operation on the same file waits for it (up to the busy timeout). So on SQLite keep the locks
in a file of their own whenever locks may be taken inside an open transaction (a nested
command re-entering after its ttl ran low, a first lock taken after the first write);
PostgreSQL locks rows, so there the table sits with the service's other tables.
Expiry uses the clients' wall clocks: keep the hosts in sync (NTP) and ttl far above the skew.
Scenario: features/core/critical_section.feature. Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Double, Integer, String, Table, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import insert_for, read_only
from cqrs_ddd_core.adapters.sqlalchemy.schema import core_metadata, require_table
from cqrs_ddd_core.ports.locking import ILockStrategy, LockInfo
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

locks_table = Table(
    "cqrs_locks",
    core_metadata,
    Column("resource_key", String(255), primary_key=True),
    Column("resource_type", String(100), nullable=False),
    Column("resource_id", String(150), nullable=False),
    Column("token", String(36), nullable=False),
    Column("session_id", String(255), nullable=True),
    Column("holds", Integer, nullable=False),
    Column("expires_at", Double, nullable=False, comment="Unix time in seconds"),
)


async def create_schema(engine: AsyncEngine) -> None:
    """Create the locks table if it is missing (tests and demos; services use migrations)."""
    async with engine.begin() as connection:
        await connection.run_sync(locks_table.create, checkfirst=True)


@dataclass
class _LocalHold:
    """Which hold in this process's queue backs a row token, and how many times it entered."""

    row_token: str
    local_token: str
    session_id: str | None
    expires_at: float
    """When the row expires (wall clock), as far as this process last wrote it."""
    count: int = 1
    unwritten: int = 0
    """Re-entries counted here only: the row's ``holds`` does not include them."""


@dataclass(frozen=True)
class _Holder:
    session_id: str | None
    expires_at: float


class SqlAlchemyLockStrategy(ILockStrategy):
    """Re-entrant locks with TTL in a SQL table, on SQLite files or PostgreSQL."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        first_poll_interval: float = 0.002,
        max_poll_interval: float = 0.1,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(
                f"SqlAlchemyLockStrategy supports SQLite and PostgreSQL, not {dialect!r}"
            )
        self._engine = engine
        self._reader = read_only(engine)
        self._insert = insert_for(dialect)
        self._first_poll_interval = first_poll_interval
        self._max_poll_interval = max_poll_interval
        # This process's queue in front of the table, and which local hold backs which row.
        self._local = InMemoryLockStrategy()
        self._local_holds: dict[str, _LocalHold] = {}

    async def verify(self) -> None:
        await require_table(self._engine, locks_table, "SqlAlchemyLockStrategy")

    async def acquire(
        self,
        resource: ResourceIdentifier,
        *,
        timeout: float,
        ttl: float,
        session_id: str | None = None,
    ) -> str:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive seconds, got {ttl!r}")
        deadline = time.monotonic() + timeout
        local_token = await self._local.acquire(
            resource, timeout=timeout, ttl=ttl, session_id=session_id
        )
        hold = self._local_holds.get(resource.key)
        if (
            hold is not None
            and session_id is not None
            and hold.session_id == session_id
            and hold.expires_at - time.time() >= ttl / 2
        ):
            # Re-entered by the session that holds the row from this process, with enough of
            # its ttl left: counting it here is enough, no round trip to the table.
            hold.count += 1
            hold.unwritten += 1
            return hold.row_token
        try:
            token = await self._acquire_row(resource, timeout, deadline, ttl, session_id)
        except BaseException:
            await _quietly(self._local.release(resource, local_token))
            raise
        expires_at = time.time() + ttl
        if hold is not None and hold.row_token == token:
            hold.count += 1  # re-entered through the table, which extended the row
            hold.expires_at = max(hold.expires_at, expires_at)
        else:
            self._local_holds[resource.key] = _LocalHold(token, local_token, session_id, expires_at)
        return token

    async def release(self, resource: ResourceIdentifier, token: str) -> None:
        hold = self._local_holds.get(resource.key)
        if hold is not None and hold.row_token == token and hold.unwritten > 0:
            hold.unwritten -= 1  # a re-entry the table never counted: nothing to write
            hold.count -= 1
            await _quietly(self._local.release(resource, hold.local_token))
            return
        try:
            await self._release_row(resource, token)
        finally:
            hold = self._local_holds.get(resource.key)
            if hold is not None and hold.row_token == token:  # never someone else's hold
                await _quietly(self._local.release(resource, hold.local_token))
                hold.count -= 1
                if hold.count == 0:
                    del self._local_holds[resource.key]

    async def _acquire_row(
        self,
        resource: ResourceIdentifier,
        timeout: float,
        deadline: float,
        ttl: float,
        session_id: str | None,
    ) -> str:
        pause = self._first_poll_interval
        while True:
            async with self._engine.begin() as connection:
                outcome = await self._try_acquire(connection, resource, ttl, session_id)
            if isinstance(outcome, str):
                return outcome
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockAcquisitionError(resource, timeout, _busy_reason(outcome))
            # Jitter keeps the pollers of several processes from polling in lock-step.
            await asyncio.sleep(min(pause * random.uniform(0.5, 1.5), remaining))
            pause = min(pause * 2, self._max_poll_interval)

    async def _release_row(self, resource: ResourceIdentifier, token: str) -> None:
        t = locks_table
        now = time.time()
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(t.c.holds, t.c.expires_at)
                    .where(t.c.resource_key == resource.key, t.c.token == token)
                    .with_for_update()
                )
            ).first()
            if row is not None and (row.holds <= 1 or row.expires_at <= now):
                await connection.execute(delete(t).where(t.c.resource_key == resource.key))
            elif row is not None:
                await connection.execute(
                    update(t).where(t.c.resource_key == resource.key).values(holds=t.c.holds - 1)
                )
        # Raised after the transaction, so the stale row's removal above is committed.
        if row is None:
            raise LockReleaseError(
                resource,
                "this token does not hold it (released already, taken over after its ttl "
                "expired, or never acquired)",
            )
        if row.expires_at <= now:
            raise LockReleaseError(
                resource,
                "its ttl expired before the release, so others may have entered meanwhile; "
                "use a longer ttl or extend() the lock while working",
            )

    async def extend(self, resource: ResourceIdentifier, token: str, ttl: float) -> bool:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive seconds, got {ttl!r}")
        t = locks_table
        now = time.time()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(t)
                .where(t.c.resource_key == resource.key, t.c.token == token, t.c.expires_at > now)
                .values(expires_at=now + ttl)
            )
        if result.rowcount != 1:
            return False
        hold = self._local_holds.get(resource.key)
        if hold is not None and hold.row_token == token:
            hold.expires_at = now + ttl
            await self._local.extend(resource, hold.local_token, ttl)
        return True

    async def health_check(self) -> bool:
        try:
            async with self._reader.connect() as connection:
                await connection.execute(select(locks_table.c.resource_key).limit(1))
        except Exception:
            return False
        return True

    async def get_active_locks(self) -> list[LockInfo]:
        t = locks_table
        async with self._reader.connect() as connection:
            rows = (await connection.execute(select(t).where(t.c.expires_at > time.time()))).all()
        return [
            LockInfo(
                resource=ResourceIdentifier(row.resource_type, row.resource_id),
                token=row.token,
                session_id=row.session_id,
                expires_at=datetime.fromtimestamp(row.expires_at, UTC),
                holds=row.holds + self._unwritten(row.resource_key, row.token),
            )
            for row in rows
        ]

    def _unwritten(self, key: str, token: str) -> int:
        hold = self._local_holds.get(key)
        return hold.unwritten if hold is not None and hold.row_token == token else 0

    async def _try_acquire(
        self,
        connection: AsyncConnection,
        resource: ResourceIdentifier,
        ttl: float,
        session_id: str | None,
    ) -> str | _Holder:
        """One attempt, inside one transaction: our token, or who holds the lock."""
        t = locks_table
        key = resource.key
        now = time.time()
        expires_at = now + ttl
        # A holder whose ttl ran out has vanished: its row is taken over.
        await connection.execute(delete(t).where(t.c.resource_key == key, t.c.expires_at <= now))
        token = new_id()
        inserted = await connection.execute(
            self._insert(t)
            .values(
                resource_key=key,
                resource_type=resource.resource_type,
                resource_id=resource.resource_id,
                token=token,
                session_id=session_id,
                holds=1,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=[t.c.resource_key])
            .returning(t.c.token)
        )
        if inserted.first() is not None:
            return token
        if session_id is not None:  # re-entry: the same session holds it already
            reentered = await connection.execute(
                update(t)
                .where(t.c.resource_key == key, t.c.session_id == session_id)
                .values(
                    holds=t.c.holds + 1,
                    expires_at=case(
                        (t.c.expires_at < expires_at, expires_at), else_=t.c.expires_at
                    ),
                )
                .returning(t.c.token)
            )
            row = reentered.first()
            if row is not None:
                return str(row.token)
        holder = (
            await connection.execute(
                select(t.c.session_id, t.c.expires_at).where(t.c.resource_key == key)
            )
        ).first()
        if holder is None:  # released between our statements (PostgreSQL): try again
            return _Holder(None, now)
        return _Holder(holder.session_id, holder.expires_at)


async def _quietly(release: Awaitable[None]) -> None:
    """A local release that may find its hold expired already: nothing left to undo then."""
    with contextlib.suppress(LockReleaseError):
        await release


def _busy_reason(holder: _Holder) -> str:
    who = f"session {holder.session_id!r}" if holder.session_id else "another holder"
    expires_in = max(holder.expires_at - time.time(), 0.0)
    return (
        f"still held by {who} (expires in {expires_in:.2f}s); "
        f"it frees when its holder releases or its ttl runs out"
    )
