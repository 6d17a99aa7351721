"""`InMemoryDeadlineStorage`: deadlines as a dictionary, with the same contract as SQL.

As with the in-memory outbox: a deadline scheduled inside an `InMemoryUnitOfWork` is *staged*
and exists only once that unit of work commits, and `claim_due` picks and leases its rows with
no ``await`` in between, so two schedulers of one process never take the same deadline.
Contract tests: tests/deadlines/test_deadline_storage.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.deadlines import Deadline, DeadlineStatus, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id


class InMemoryDeadlineStorage(IDeadlineStorage):
    """Deadlines of one process. ``clock`` lets tests move time."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._rows: dict[str, Deadline] = {}

    async def schedule(self, deadline: Deadline, *, uow: UnitOfWork | None = None) -> None:
        row = copy.deepcopy(deadline)
        self._in_transaction(uow, lambda: self._rows.__setitem__(row.deadline_id, row))

    async def cancel(self, name: str, key: str, *, uow: UnitOfWork | None = None) -> int:
        pending = [
            row
            for row in self._rows.values()
            if row.name == name and row.key == key and row.status is DeadlineStatus.PENDING
        ]

        def apply() -> None:
            for row in pending:
                if row.status is DeadlineStatus.PENDING:
                    row.status = DeadlineStatus.CANCELLED

        self._in_transaction(uow, apply)
        return len(pending)

    async def claim_due(self, batch_size: int, *, lease_seconds: float) -> list[Deadline]:
        # No await from here to the return: nobody else can claim in between.
        now = self._clock()
        token = new_id()
        due = sorted(
            (row for row in self._rows.values() if _is_due(row, now)),
            key=lambda row: (row.due_at, row.deadline_id),
        )[:batch_size]
        for row in due:
            row.claim_token = token
            row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
        return [copy.deepcopy(row) for row in due]

    async def mark_fired(self, deadline_id: str, claim_token: str) -> bool:
        row = self._held(deadline_id, claim_token)
        if row is None:
            return False
        row.status, row.fired_at = DeadlineStatus.FIRED, self._clock()
        row.claim_token = row.lease_expires_at = None
        return True

    async def release(
        self, deadline_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        row = self._held(deadline_id, claim_token)
        if row is None:
            return False
        row.due_at, row.last_error = retry_at, error
        row.claim_token = row.lease_expires_at = None
        return True

    async def get(self, deadline_id: str) -> Deadline | None:
        row = self._rows.get(deadline_id)
        return None if row is None else copy.deepcopy(row)

    async def find(self, name: str, key: str) -> list[Deadline]:
        return [
            copy.deepcopy(row) for row in self._rows.values() if row.name == name and row.key == key
        ]

    async def count_by_status(self) -> dict[DeadlineStatus, int]:
        counts = dict.fromkeys(DeadlineStatus, 0)
        for row in self._rows.values():
            counts[row.status] += 1
        return counts

    def _held(self, deadline_id: str, claim_token: str) -> Deadline | None:
        row = self._rows.get(deadline_id)
        held = row is not None and row.status is DeadlineStatus.PENDING
        return row if held and row is not None and row.claim_token == claim_token else None

    @staticmethod
    def _in_transaction(uow: UnitOfWork | None, action: Callable[[], None]) -> None:
        uow = uow if uow is not None else get_current_uow()
        if uow is None:
            action()
            return
        if not isinstance(uow, InMemoryUnitOfWork):
            raise TypeError(
                f"InMemoryDeadlineStorage writes through an InMemoryUnitOfWork, got "
                f"{type(uow).__name__}; use the SQL deadline storage with a SQL unit of work"
            )
        uow.stage(action)


def _is_due(row: Deadline, now: datetime) -> bool:
    if row.status is not DeadlineStatus.PENDING or row.due_at > now:
        return False
    return row.lease_expires_at is None or row.lease_expires_at <= now
