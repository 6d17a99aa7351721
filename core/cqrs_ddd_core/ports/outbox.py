"""`IOutboxStorage` and `OutboxMessage`: the transactional outbox, as a port.

An outbox row is written in the same transaction as the state change it announces; a relay
later claims it, hands it to the broker and records the outcome. The one thing to notice is the
row's explicit lifecycle::

    pending --claim--> claimed (leased) --publish ok--> published
                          |  --publish failed--> failed (retry at next_attempt_at) --claim--> ...
                          |  --failed too often--> dead (with last_error) --redrive--> pending
                          `--lease expired--> claimable again (its relay crashed)

A claim is atomic and carries a ``claim_token``: two relays never hold the same row, and a relay
whose lease expired cannot mark a row that another relay holds now (its marks match nothing).
Delivery is therefore at-least-once; the receiver's inbox (`ports/inbox.py`) makes the effect
exactly-once. Contract tests: tests/messaging/contracts.py.
Guide: docs/components/outbox.md, docs/patterns/outbox-flow.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.ids import new_id


def utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    PUBLISHED = "published"
    FAILED = "failed"
    DEAD = "dead"


@dataclass
class OutboxMessage:
    """One message waiting in (or done with) the outbox.

    ``topic`` is what the broker routes on (by convention the event type name); ``payload``
    is the JSON-ready body and always carries ``event_type``, so a consumer can hydrate it.
    """

    topic: str
    payload: dict[str, Any]
    message_id: str = field(default_factory=new_id)
    correlation_id: str | None = None
    causation_id: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    """Claims so far: a crash mid-publish counts too, so a row that kills relays still dies
    (`OutboxService` marks a row dead when it is claimed again after its last retry)."""
    last_error: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    next_attempt_at: datetime = field(default_factory=utc_now)
    lease_expires_at: datetime | None = None
    claim_token: str | None = None
    published_at: datetime | None = None
    headers: dict[str, str] | None = None
    """What travels beside the payload: the trace context the row was written in (see
    `cqrs_ddd_core.observability.tracing`); ``None`` while tracing is off."""

    def __post_init__(self) -> None:
        if not isinstance(self.payload.get("event_type"), str):
            raise ValueError(
                f"Outbox payload for topic {self.topic!r} has no 'event_type': publish a "
                f"DomainEvent (its to_payload() adds it) or a dict with an 'event_type' key"
            )

    @property
    def event_type(self) -> str:
        return str(self.payload["event_type"])

    @classmethod
    def create(
        cls,
        topic: str,
        message: DomainEvent | dict[str, Any],
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> OutboxMessage:
        """A pending row for ``message``: an event (its payload and ids) or a payload dict.

        An event's row takes the event's id as message id, so every copy the relay may send
        of it carries the same id - the key a consumer's inbox deduplicates on.
        """
        if isinstance(message, DomainEvent):
            return cls(
                topic=topic,
                payload=message.to_payload(),
                message_id=message_id or message.event_id,
                correlation_id=correlation_id or message.correlation_id,
                causation_id=causation_id or message.causation_id,
            )
        if not isinstance(message, dict):
            raise TypeError(
                f"The outbox stores a DomainEvent or a dict with 'event_type', got "
                f"{type(message).__name__} for topic {topic!r}"
            )
        row_id = message_id or str(message.get("event_id") or new_id())
        payload = dict(message)
        # Every copy the relay sends must carry one id for the receiver's inbox to recognise.
        payload.setdefault("event_id", row_id)
        return cls(
            topic=topic,
            payload=payload,
            message_id=row_id,
            correlation_id=correlation_id or message.get("correlation_id"),
            causation_id=causation_id or message.get("causation_id"),
        )


class IOutboxStorage(ABC):
    """Where outbox rows live. Every method is atomic on its own."""

    async def verify(self) -> None:  # noqa: B027 - optional on purpose: memory needs nothing
        """Raise when the storage cannot work at all (its table is missing); start-up calls it."""

    @abstractmethod
    async def save(
        self, messages: Sequence[OutboxMessage], *, uow: UnitOfWork | None = None
    ) -> None:
        """Store rows as they are given in the caller's transaction.

        Rows are pending, or already leased to the relay of the process that writes them (its
        fast path: status ``CLAIMED``, its ``claim_token`` and ``lease_expires_at``).

        ``uow`` defaults to the current unit of work (``get_current_uow()``): the rows become
        visible when it commits and vanish if it rolls back. With no unit of work at all the
        rows are stored (committed) at once.
        """

    @abstractmethod
    async def claim_batch(self, batch_size: int, *, lease_seconds: float) -> list[OutboxMessage]:
        """Atomically lease up to ``batch_size`` due rows to the caller, oldest first.

        Due: pending, failed whose ``next_attempt_at`` has come, or claimed whose lease has
        expired. The claimed rows get status ``CLAIMED``, one new ``claim_token`` for the
        whole batch, ``lease_expires_at = now + lease_seconds`` and ``attempts + 1``. Two
        concurrent claims never return the same row.
        """

    @abstractmethod
    async def mark_published(self, message_ids: Sequence[str], claim_token: str) -> int:
        """Mark rows published, but only those still held under ``claim_token``.

        Returns how many rows were marked: fewer than asked means another relay took some over.
        """

    @abstractmethod
    async def mark_failed(
        self, message_id: str, claim_token: str, *, error: str, retry_at: datetime
    ) -> bool:
        """Record a failed attempt; the row is due again at ``retry_at``. ``False`` if not held."""

    @abstractmethod
    async def mark_dead(self, message_id: str, claim_token: str, *, error: str) -> bool:
        """Give up on a row: status ``DEAD`` with ``error``. ``False`` if not held."""

    @abstractmethod
    async def get(self, message_id: str) -> OutboxMessage | None:
        """One row as committed now, or ``None``."""

    @abstractmethod
    async def list_dead(self, limit: int = 100) -> list[OutboxMessage]:
        """Dead rows, oldest first, with their last error."""

    @abstractmethod
    async def redrive(self, message_id: str) -> bool:
        """Put a dead row back to pending with its attempts reset; ``False`` if not dead."""

    @abstractmethod
    async def count_by_status(self) -> dict[OutboxStatus, int]:
        """How many rows are in each status (every status is a key, zero included)."""

    async def backlog(self) -> tuple[int, datetime | None]:
        """Rows not yet published or dead, and when the oldest of them was written.

        What the ``cqrs.outbox.backlog`` and ``cqrs.outbox.oldest_pending_age`` metrics show.
        This default knows the count only; the storages override it with one query.
        """
        counts = await self.count_by_status()
        waiting = sum(counts[s] for s in (OutboxStatus.PENDING, OutboxStatus.CLAIMED))
        return waiting + counts[OutboxStatus.FAILED], None

    @abstractmethod
    async def purge_published(self, before: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` published rows whose ``published_at`` is before ``before``.

        Returns how many were deleted. Pending, claimed, failed and dead rows are never
        touched: only a row whose message has left is history. See `cqrs/outbox/retention.py`.
        """
