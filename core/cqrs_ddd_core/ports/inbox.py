"""`IInboxStorage`: the idempotent receiver, as a port.

Delivery is at-least-once (a relay may publish a row twice, a broker redelivers what it was not
sure was processed), so a consumer remembers which messages it has processed. The one thing to
notice: the check and the record happen in the **consumer's unit of work**, the same
transaction as the effect. Either both commit or neither does, so a message's effect happens
exactly once - and if two copies are processed at the same time, the second commit fails
(`ConcurrencyError`), its effect is rolled back and the broker redelivers it, to be skipped.

Rows are keyed on ``(message_id, consumer)``: two consumers of one message each process it once.
Contract tests: tests/messaging/contracts.py.
Guide: docs/patterns/inbox-and-dead-letters.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from cqrs_ddd_core.ports.unit_of_work import UnitOfWork


class IInboxStorage(ABC):
    """Processed message ids per consumer."""

    async def verify(self) -> None:  # noqa: B027 - optional on purpose: memory needs nothing
        """Raise when the storage cannot work at all (its table is missing); start-up calls it."""

    @abstractmethod
    async def has_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> bool:
        """Whether ``consumer`` has processed ``message_id``, as ``uow`` sees it.

        ``uow`` defaults to the current unit of work (``get_current_uow()``), so its own
        uncommitted record counts; with none, only committed records count.
        """

    @abstractmethod
    async def mark_processed(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> None:
        """Record that ``consumer`` processed ``message_id``, in ``uow``'s transaction.

        ``uow`` defaults to the current unit of work; with none the record commits at once.
        If another transaction committed the same record first, this one fails with
        `ConcurrencyError` - here or, at the latest, when it commits (and it rolls back);
        outside a unit of work it raises at once.
        """

    async def mark_processed_if_new(
        self, message_id: str, consumer: str, *, uow: UnitOfWork | None = None
    ) -> bool:
        """Record the message as `mark_processed` does unless it is recorded; False if it was.

        The check and the record in one step, as the first statement of a message's
        transaction: a storage that can (an insert that skips an existing key) makes it one
        statement instead of `has_processed`'s read plus `mark_processed`'s write. A copy being
        recorded by another transaction at the same moment is found here or, at the latest,
        when one of the two commits (`ConcurrencyError`), as for `mark_processed`.
        """
        if await self.has_processed(message_id, consumer, uow=uow):
            return False
        await self.mark_processed(message_id, consumer, uow=uow)
        return True

    @abstractmethod
    async def purge_processed(self, before: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` records made before ``before``; how many were deleted.

        A message redelivered after its record is gone is processed again: see the rule in
        `cqrs/outbox/retention.py` for how long records must be kept.
        """
