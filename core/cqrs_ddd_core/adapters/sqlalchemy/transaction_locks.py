"""`TransactionLockStrategy`: a lock that is part of the unit of work's own transaction.

The lock-table strategy (`locking.py`) spends two transactions of its own per lock - one to
take it, one to give it back - and needs a ttl in case its holder vanishes. When everything a
command protects happens inside one database transaction, the database can hold the lock
itself, and the transaction's end (commit, rollback, or the connection dying with its process)
releases it. The thing to notice is that ``release`` does nothing: the commit releases.

* **PostgreSQL**: ``pg_advisory_xact_lock`` on a 64-bit hash of the resource, in the unit of
  work's session; ``lock_timeout`` bounds the wait (for the rest of the transaction, its row
  locks included). Two resources whose hashes collide only wait for each other - never less
  safe, just rarely slower. Re-entering is free: a session may stack the same advisory lock.
* **SQLite**: the transaction's ``BEGIN IMMEDIATE`` already holds the file's one write lock
  until it ends, so every writer is serialised; taking a lock here only makes sure the
  transaction has begun. The wait is bounded by SQLite's busy timeout.

What it cannot do: hold anything outside a transaction (a lock around a call to another
system, a lock that must outlive the commit) - keep the lock table or Redis for those. It
needs the current unit of work to be a `SqlAlchemyUnitOfWork`; without one it refuses.
Guide: docs/components/critical-section.md (which lock strategy).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.locking import ILockStrategy, LockInfo
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

# SQLSTATE 55P03: the wait ran past lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


class TransactionLockStrategy(ILockStrategy):
    """Locks held by the current unit of work's transaction, released by its end."""

    held_by_transaction = True

    async def acquire(
        self,
        resource: ResourceIdentifier,
        *,
        timeout: float,
        ttl: float,
        session_id: str | None = None,
    ) -> str:
        # ttl and session_id have nothing to do here: the lock lives exactly as long as the
        # transaction, and the transaction is the session.
        uow = get_current_uow()
        if not isinstance(uow, SqlAlchemyUnitOfWork):
            raise LockAcquisitionError(
                resource,
                timeout,
                "a transaction lock is taken inside a SqlAlchemyUnitOfWork's transaction, and "
                f"the current unit of work is {type(uow).__name__}",
            )
        session = uow.session
        # --8<-- [start:acquire]
        try:
            if session.get_bind().dialect.name == "postgresql":
                milliseconds = max(1, round(timeout * 1000))
                await session.execute(
                    select(func.set_config("lock_timeout", f"{milliseconds}ms", True))
                )
                key = func.hashtextextended(str(resource), 0)
                await session.execute(select(func.pg_advisory_xact_lock(key)))
            else:
                await session.connection()  # SQLite: BEGIN IMMEDIATE, if not begun already
        except DBAPIError as error:
            timed_out = getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE
            reason = "another transaction holds it" if timed_out else f"{error.orig!r}"
            raise LockAcquisitionError(resource, timeout, reason) from error
        # --8<-- [end:acquire]
        return new_id()

    async def release(self, resource: ResourceIdentifier, token: str) -> None:
        """Nothing: the transaction's commit or rollback releases the lock."""

    async def extend(self, resource: ResourceIdentifier, token: str, ttl: float) -> bool:
        """Always held while the transaction lasts: there is no expiry to push."""
        return True

    async def health_check(self) -> bool:
        return True  # the database's own health is the storage's check

    async def get_active_locks(self) -> list[LockInfo]:
        """None to report by name: a transaction lock is a hash held by a live transaction, and
        none outlives one."""
        return []
