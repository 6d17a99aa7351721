"""`InMemoryOutboxStorage`: the outbox table as a dictionary, with the same contract as SQL.

Two things to notice. Rows saved inside an `InMemoryUnitOfWork` are *staged* in it
(``uow.stage``) and appear only when it commits - a rolled-back command leaves no row. And
`claim_batch` selects and leases its rows without an ``await`` in between, which is what makes
the claim atomic under asyncio: two relays can never take the same row.
Contract tests: tests/messaging/test_outbox_contract.py.
Guide: docs/components/outbox.md, docs/patterns/outbox-flow.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus, utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id


class InMemoryOutboxStorage(IOutboxStorage):
    """Outbox rows of one process. ``clock`` lets tests move time (leases, retries)."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._rows: dict[str, OutboxMessage] = {}
        # Rows still to be published, in insertion order: claims never scan finished rows.
        self._active: dict[str, None] = {}

    async def save(
        self, messages: Sequence[OutboxMessage], *, uow: UnitOfWork | None = None
    ) -> None:
        rows = [copy.deepcopy(message) for message in messages]
        for row in rows:
            if row.message_id in self._rows:
                raise ValueError(
                    f"Outbox message {row.message_id!r} is stored already; give each "
                    f"message its own message_id"
                )
        uow = uow if uow is not None else get_current_uow()
        if uow is None:
            self._insert(rows)
            return
        if not isinstance(uow, InMemoryUnitOfWork):
            raise TypeError(
                f"InMemoryOutboxStorage writes through an InMemoryUnitOfWork, got "
                f"{type(uow).__name__}; use the SQL outbox storage with a SQL unit of work"
            )
        uow.stage(lambda: self._insert(rows))

    def _insert(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            self._rows[row.message_id] = row
            self._active[row.message_id] = None

    async def claim_batch(self, batch_size: int, *, lease_seconds: float) -> list[OutboxMessage]:
        # No await from here to the return: nobody else can claim in between.
        now = self._clock()
        token = new_id()
        claimed: list[OutboxMessage] = []
        for message_id in self._active:
            if len(claimed) >= batch_size:
                break
            row = self._rows[message_id]
            if not _is_due(row, now):
                continue
            row.status = OutboxStatus.CLAIMED
            row.claim_token = token
            row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            claimed.append(copy.copy(row))  # the relay's view; the payload is not changed
        return claimed

    async def mark_published(self, message_ids: Sequence[str], claim_token: str) -> int:
        now = self._clock()
        marked = 0
        for message_id in message_ids:
            row = self._held(message_id, claim_token)
            if row is None:
                continue
            row.status = OutboxStatus.PUBLISHED
            row.published_at = now
            row.lease_expires_at = None
            row.claim_token = None
            self._active.pop(message_id, None)
            marked += 1
        return marked

    async def mark_failed(
        self, message_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        row = self._held(message_id, claim_token)
        if row is None:
            return False
        row.status = OutboxStatus.FAILED
        row.last_error = error
        row.next_attempt_at = retry_at
        row.lease_expires_at = None
        row.claim_token = None
        return True

    async def mark_dead(self, message_id: str, claim_token: str, *, error: str) -> bool:
        row = self._held(message_id, claim_token)
        if row is None:
            return False
        row.status = OutboxStatus.DEAD
        row.last_error = error
        row.lease_expires_at = None
        row.claim_token = None
        self._active.pop(message_id, None)
        return True

    async def get(self, message_id: str) -> OutboxMessage | None:
        row = self._rows.get(message_id)
        return copy.deepcopy(row) if row is not None else None

    async def list_dead(self, limit: int = 100) -> list[OutboxMessage]:
        dead = [row for row in self._rows.values() if row.status is OutboxStatus.DEAD]
        dead.sort(key=lambda row: row.created_at)
        return [copy.deepcopy(row) for row in dead[:limit]]

    async def redrive(self, message_id: str) -> bool:
        row = self._rows.get(message_id)
        if row is None or row.status is not OutboxStatus.DEAD:
            return False
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = self._clock()
        self._active[message_id] = None
        return True

    async def count_by_status(self) -> dict[OutboxStatus, int]:
        counts = dict.fromkeys(OutboxStatus, 0)
        for row in self._rows.values():
            counts[row.status] += 1
        return counts

    async def backlog(self) -> tuple[int, datetime | None]:
        active = [self._rows[message_id] for message_id in self._active]
        return len(active), min((row.created_at for row in active), default=None)

    async def purge_published(self, before: datetime, *, limit: int = 1000) -> int:
        old = [
            message_id
            for message_id, row in self._rows.items()
            if row.status is OutboxStatus.PUBLISHED
            and row.published_at is not None
            and row.published_at < before
        ][:limit]
        for message_id in old:
            del self._rows[message_id]
        return len(old)

    def _held(self, message_id: str, claim_token: str) -> OutboxMessage | None:
        row = self._rows.get(message_id)
        if row is None or row.status is not OutboxStatus.CLAIMED:
            return None
        return row if row.claim_token == claim_token else None


def _is_due(row: OutboxMessage, now: datetime) -> bool:
    if row.status is OutboxStatus.PENDING:
        return True
    if row.status is OutboxStatus.FAILED:
        return row.next_attempt_at <= now
    if row.status is OutboxStatus.CLAIMED:
        return row.lease_expires_at is not None and row.lease_expires_at <= now
    return False
