"""`Retention`: published outbox rows and old inbox records are deleted, or the tables grow forever.

Every message a service sends leaves an outbox row, every message it receives an inbox record.
`Retention.run_once` deletes, in short bounded batches:

* **outbox rows published** more than ``outbox_age`` ago (default 7 days). A published row is
  history: nothing reads it again. Pending, claimed, failed and **dead** rows are never
  deleted - a dead row waits for someone to read its error and redrive it.
* **inbox records made** more than ``inbox_age`` ago (default 14 days).

The rule for ``inbox_age``, the one that matters: an inbox record is what catches a redelivered
copy of a message, so it must outlive every copy that can still arrive. Copies come from the
sender's relay retrying a publish whose confirm was lost (within the sender's retry schedule:
minutes to hours), from the broker redelivering unacknowledged or delayed-retry messages
(seconds to minutes), and from someone redriving a dead letter by hand (whenever they do).
A copy arriving after its record was deleted **is processed again**. So keep ``inbox_age``
longer than the longest of those - in practice: redrive dead letters, or discard them, well
within ``inbox_age``, and keep it well above the senders' longest retry schedule.

`BufferedOutbox` runs it from the relay's loop every ``interval`` seconds (default one hour),
not on every round: deleting is cheap but not free, and an hour's rows are a small batch.
Each batch is one short transaction (SQLite has one writer: a long delete would stall every
command). What it costs: the published rows are found without an index of their own (the
outbox's index covers only unfinished rows), which an hourly run over a day's rows affords.
Settings: ``OUTBOX_RETENTION_DAYS``, ``INBOX_RETENTION_DAYS``, ``RETENTION_INTERVAL``.
Tests: tests/messaging/test_retention.py; each storage's purge in the port contracts
(tests/messaging/contracts.py), on memory, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.outbox import IOutboxStorage, utc_now

DEFAULT_OUTBOX_AGE = timedelta(days=7)
DEFAULT_INBOX_AGE = timedelta(days=14)
DEFAULT_INTERVAL = 3600.0


@dataclass(frozen=True)
class Purged:
    """What one cleanup deleted."""

    outbox_rows: int = 0
    inbox_records: int = 0


class Retention:
    """Deletes old published outbox rows and old inbox records of one service's database."""

    def __init__(
        self,
        outbox: IOutboxStorage | None,
        inbox: IInboxStorage | None = None,
        *,
        outbox_age: timedelta = DEFAULT_OUTBOX_AGE,
        inbox_age: timedelta = DEFAULT_INBOX_AGE,
        interval: float = DEFAULT_INTERVAL,
        batch_size: int = 1000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if min(outbox_age, inbox_age) <= timedelta(0) or interval <= 0 or batch_size <= 0:
            raise ValueError("Retention needs positive ages, interval and batch_size")
        self.outbox = outbox
        self.inbox = inbox
        self.outbox_age = outbox_age
        self.inbox_age = inbox_age
        self.interval = interval
        self.batch_size = batch_size
        self._clock = clock

    async def run_once(self) -> Purged:
        """Delete every row past its age, batch by batch; what was deleted."""
        now = self._clock()
        outbox_rows = inbox_records = 0
        if self.outbox is not None:
            outbox_rows = await _in_batches(
                self.outbox.purge_published, now - self.outbox_age, self.batch_size
            )
        if self.inbox is not None:
            inbox_records = await _in_batches(
                self.inbox.purge_processed, now - self.inbox_age, self.batch_size
            )
        return Purged(outbox_rows, inbox_records)


async def _in_batches(
    purge: Callable[..., Awaitable[int]], before: datetime, batch_size: int
) -> int:
    total = 0
    while True:
        deleted = await purge(before, limit=batch_size)
        total += deleted
        if deleted < batch_size:
            return total
