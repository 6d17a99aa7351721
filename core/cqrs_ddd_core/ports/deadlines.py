"""`IDeadlineStorage`: durable deadlines - "if nothing has happened by then, do this".

A process that waits (an order waiting for its payment) must not wait in memory: a restart
would forget it, and two replicas would both remember it. A `Deadline` is a row, written **in
the transaction** of the message that starts the wait (``schedule`` with the caller's unit of
work), due at a time, and fired later by a `DeadlineScheduler` that claims due rows with a
lease, exactly like the outbox relay claims outbox rows. The thing to notice: a deadline
carries the ``correlation_id`` of the story it belongs to and its own id as the causation of
whatever its firing does, so the firing continues the story instead of starting a new one.

Contract tests: tests/deadlines/. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its time (or claimed by a scheduler whose lease may run out)."""
    FIRED = "fired"
    CANCELLED = "cancelled"


@dataclass
class Deadline:
    """One deadline: ``name`` (what it is for) of ``key`` (whose), due at ``due_at``."""

    name: str
    key: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    causation_id: str | None = None
    """The message that scheduled it."""
    deadline_id: str = field(default_factory=new_id)
    status: DeadlineStatus = DeadlineStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    claim_token: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    fired_at: datetime | None = None


class IDeadlineStorage(ABC):
    """Where deadlines wait. Every method is safe with many schedulers in many processes."""

    @abstractmethod
    async def schedule(self, deadline: Deadline, *, uow: UnitOfWork | None = None) -> None:
        """Store ``deadline`` in ``uow``'s transaction (or the current one, else its own)."""

    @abstractmethod
    async def cancel(self, name: str, key: str, *, uow: UnitOfWork | None = None) -> int:
        """Cancel the pending deadlines ``name`` of ``key`` (in the caller's transaction);
        how many. A deadline a scheduler is firing right now may still fire: firing must be
        harmless once the wait is over."""

    @abstractmethod
    async def claim_due(self, batch_size: int, *, lease_seconds: float) -> list[Deadline]:
        """Atomically lease up to ``batch_size`` pending deadlines that are due (or whose
        lease ran out), oldest due first. Two schedulers never hold the same deadline."""

    @abstractmethod
    async def mark_fired(self, deadline_id: str, claim_token: str) -> bool:
        """Fired: done for good - if still held under ``claim_token``."""

    @abstractmethod
    async def release(
        self, deadline_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        """Firing failed: pending again, due at ``retry_at``, with the error kept."""

    @abstractmethod
    async def get(self, deadline_id: str) -> Deadline | None: ...

    @abstractmethod
    async def find(self, name: str, key: str) -> list[Deadline]:
        """Every deadline ``name`` of ``key``, whatever its status."""

    @abstractmethod
    async def count_by_status(self) -> dict[DeadlineStatus, int]: ...
