"""`InMemoryInboxStorage`: processed message ids, kept as records of an `InMemoryStore`.

The thing to notice: an inbox record is an ordinary *insert* staged in the consumer's
`InMemoryUnitOfWork`, next to the writes of the effect. The unit of work checks every insert
before it applies anything, so if another transaction recorded the same message first, the
whole commit - effect included - fails with `ConcurrencyError`, exactly as a primary key
would make a SQL commit fail. The inbox and the units of work must share one store.
Contract tests: tests/messaging/test_inbox_contract.py.
Guide: docs/patterns/inbox-and-dead-letters.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

COLLECTION = "inbox"


class InMemoryInboxStorage(IInboxStorage):
    """Pass the service's `InMemoryStore` - the one its units of work write to."""

    def __init__(
        self, store: InMemoryStore | None = None, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.store = store if store is not None else InMemoryStore()
        self._clock = clock

    async def has_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> bool:
        uow = uow if uow is not None else get_current_uow()
        if uow is None:
            return self.store.committed(COLLECTION, _key(message_id, consumer)) is not None
        return self._joined(uow).get(COLLECTION, _key(message_id, consumer)) is not None

    async def mark_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> None:
        uow = uow if uow is not None else get_current_uow()
        if uow is not None:
            self._joined(uow).insert(COLLECTION, _key(message_id, consumer), self._processed_at())
            return
        # No caller's transaction: a short one of our own.
        async with InMemoryUnitOfWork(self.store) as own:
            own.insert(COLLECTION, _key(message_id, consumer), self._processed_at())
            await own.commit()

    async def purge_processed(self, before: datetime, *, limit: int = 1000) -> int:
        async with InMemoryUnitOfWork(self.store) as own:
            old = [
                (key, record.version)
                for key in self.store.keys(COLLECTION)
                if (record := self.store.committed(COLLECTION, key)) is not None
                and datetime.fromisoformat(record.value) < before
            ][:limit]
            for key, version in old:
                own.delete(COLLECTION, key, version)
            await own.commit()
        return len(old)

    def _processed_at(self) -> str:
        return self._clock().isoformat()  # a string: cheap to copy in and out of the uow

    def _joined(self, uow: UnitOfWork) -> InMemoryUnitOfWork:
        if not isinstance(uow, InMemoryUnitOfWork) or uow.store is not self.store:
            raise ValueError(
                f"InMemoryInboxStorage must write in an InMemoryUnitOfWork over its own store, "
                f"got {type(uow).__name__}; build both on one InMemoryStore "
                f"(InMemoryInboxStorage(store) and InMemoryUnitOfWork(store))"
            )
        return uow

    def processed_count(self, consumer: str) -> int:
        """How many messages ``consumer`` has processed (committed), for tests and health."""
        prefix = _key("", consumer)
        return sum(1 for key in self.store.keys(COLLECTION) if key.startswith(prefix))


def _key(message_id: str, consumer: str) -> str:
    return f"{consumer}|{message_id}"
