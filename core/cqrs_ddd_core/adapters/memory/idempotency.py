"""`InMemoryIdempotencyStorage`: stored responses as records of an `InMemoryStore`.

As the in-memory inbox does, a record is an ordinary *insert* staged in the request's
`InMemoryUnitOfWork`, next to the command's writes: if another request stored the same
``(caller, key)`` first, the whole commit - effects included - fails with `ConcurrencyError`,
as the primary key makes a SQL commit fail. The storage and the units of work share one store.
Contract tests: tests/idempotency/test_idempotency_storage.py.
Guide: docs/patterns/idempotency.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.idempotency import (
    DEFAULT_TTL,
    PURGE_BATCH,
    IdempotencyRecord,
    IIdempotencyStorage,
    RecordedResponse,
)
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

COLLECTION = "idempotency"


class InMemoryIdempotencyStorage(IIdempotencyStorage):
    """Pass the service's `InMemoryStore` - the one its units of work write to."""

    def __init__(
        self,
        store: InMemoryStore | None = None,
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.ttl = ttl
        self._clock = clock

    async def find(self, caller: str, key: str) -> IdempotencyRecord | None:
        committed = self.store.committed(COLLECTION, _key(caller, key))
        if committed is None or self._expired(committed.value):
            return None
        record: IdempotencyRecord = committed.value
        return record

    async def save(
        self,
        caller: str,
        key: str,
        fingerprint: str,
        response: RecordedResponse,
        *,
        uow: UnitOfWork | None = None,
    ) -> bool:
        joined = self._joined(uow if uow is not None else get_current_uow())
        record = IdempotencyRecord(caller, key, fingerprint, response, self._clock() + self.ttl)
        existing = joined.get(COLLECTION, _key(caller, key))
        if existing is None:
            joined.insert(COLLECTION, _key(caller, key), record)
        elif self._expired(existing[0]):
            joined.update(COLLECTION, _key(caller, key), record, existing[1])
        else:
            return False
        await self.purge_expired(uow=joined)
        return True

    async def purge_expired(
        self, *, limit: int = PURGE_BATCH, uow: UnitOfWork | None = None
    ) -> int:
        # Applied at commit, straight to the store: two purges never conflict with each other.
        expired = [
            key
            for key in self.store.keys(COLLECTION)
            if self._expired(self.store.collections[COLLECTION][key].value)
        ][:limit]

        def purge() -> None:
            table = self.store.collections.get(COLLECTION, {})
            for key in expired:
                record = table.get(key)
                if record is not None and self._expired(record.value):
                    del table[key]

        joined = uow if uow is not None else get_current_uow()
        if joined is None:
            purge()
        else:
            self._joined(joined).stage(purge)
        return len(expired)

    def _expired(self, record: IdempotencyRecord) -> bool:
        return record.expires_at <= self._clock()

    def _joined(self, uow: UnitOfWork | None) -> InMemoryUnitOfWork:
        if not isinstance(uow, InMemoryUnitOfWork) or uow.store is not self.store:
            raise ValueError(
                f"InMemoryIdempotencyStorage must write in an InMemoryUnitOfWork over its own "
                f"store, got {type(uow).__name__}; build both on one InMemoryStore"
            )
        return uow


def _key(caller: str, key: str) -> str:
    return f"{caller}\x00{key}"  # NUL: no printable key can forge another caller's entry
