"""`deadline_storage`: where a service's durable deadlines wait, next to its state.

In memory with ``DATABASE_URL=memory``; otherwise the ``cqrs_deadlines`` table of the service's
own database (``StorageRecipe(deadlines=True)`` migrates it), so a deadline commits in the
transaction that schedules it. ``clock`` is the seam tests move time with. A service hands
the storage to its process manager and to a `DeadlineScheduler`, which it gives `ServiceHost`
as a worker. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cqrs_ddd_core.adapters.host.storage import Storage
from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.adapters.sqlalchemy.deadlines import SqlAlchemyDeadlineStorage
from cqrs_ddd_core.ports.deadlines import IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now


def deadline_storage(
    storage: Storage, *, clock: Callable[[], datetime] = utc_now
) -> IDeadlineStorage:
    """The deadlines of ``storage``'s database (in process when it has none)."""
    if storage.engine is None:
        return InMemoryDeadlineStorage(clock)
    if not storage.extra_migrations:
        raise ValueError(
            "This storage was opened without the deadlines table: build its StorageRecipe "
            "with deadlines=True"
        )
    return SqlAlchemyDeadlineStorage(storage.engine, clock=clock)
