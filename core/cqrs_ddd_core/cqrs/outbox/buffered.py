"""`BufferedOutbox`: the outbox a service wires in - a publisher on one side, a relay on the other.

As an `IMessagePublisher`, ``publish`` never talks to the broker: inside a unit of work it
stores the message **in that transaction** and hands it to the relay only after the commit
(``uow.on_commit``), so the events of a rolled-back command never leave; outside one it stores
the message at once. As an `IBackgroundWorker` it relays through an `OutboxService`.

The thing to notice is the **fast path**. While the relay runs, a row is inserted already
leased to it (status ``claimed``, this relay's token, a lease of ``lease_seconds``), and the
commit hands the row itself to the relay, which publishes it and marks it - no claim
transaction, no waiting for a poll. Nobody else can take the row while the lease lasts; if the
process dies before publishing, the lease runs out and any relay claims the row, exactly as
for a relay that died mid-publish. The mark may wait up to ``mark_delay`` seconds, so that the
marks of many rows share one transaction: a mark is the relay's bookkeeping, and one lost to a
crash costs a duplicate publish once the lease runs out - absorbed by the receivers' inboxes -
never a lost message. Everything else takes the claim path: rows written by another process or
before the start, failed rows due again, redriven rows - and new rows while ``HELD_BATCHES``
batches already wait to be published, so a hung broker piles rows up in the table, never in
memory.

The loop: woken on commit - at once when it was idle, debounced (``wait_delay``) when the
wake-up comes while a burst keeps it busy, so the burst becomes one batch - claiming every
``poll_interval`` as a fallback, backing off exponentially up to ``max_delay`` while the
broker fails, and stopping gracefully - the rows handed to it are published, the rest waits in
storage for the next start. Given a `Retention`, the same loop deletes old published rows (and
inbox records) every ``retention.interval`` seconds.
Scenarios: features/core/outbox.feature, features/core/dead_letters.feature.
Guide: docs/components/outbox.md, docs/patterns/outbox-flow.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from cqrs_ddd_core.cqrs.outbox.retention import Retention
from cqrs_ddd_core.cqrs.outbox.service import BatchResult, OutboxService
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.observability import metrics
from cqrs_ddd_core.observability.tracing import outbox_write
from cqrs_ddd_core.ports.background import IBackgroundWorker
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus, utc_now
from cqrs_ddd_core.primitives.ids import new_id

logger = logging.getLogger(__name__)

HELD_BATCHES = 4
"""How many batches of handed-over rows may wait for the relay before new rows go the claim way."""


class BufferedOutbox(IMessagePublisher, IBackgroundWorker):
    """Unified outbox component: records messages transactionally and relays them."""

    def __init__(
        self,
        storage: IOutboxStorage,
        broker: IMessagePublisher,
        lock_strategy: ILockStrategy | None = None,
        batch_size: int = 50,
        max_retries: int = 5,
        poll_interval: float = 5.0,
        wait_delay: float = 0.1,
        max_delay: float = 2.0,
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 300.0,
        lease_seconds: float = 30.0,
        publish_timeout: float = 10.0,
        mark_delay: float = 0.0,
        retention: Retention | None = None,
        name: str = "outbox",
    ) -> None:
        self.storage = storage
        self.retention = retention
        self.name = name
        """Names this outbox in its metrics (a service's name)."""
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.wait_delay = wait_delay
        self.max_delay = max_delay
        if not 0 <= mark_delay < lease_seconds:
            raise ValueError(
                f"mark_delay must be at least 0 and shorter than the lease ({lease_seconds}s): "
                f"a mark written after the lease ran out is a row published twice"
            )
        self.mark_delay = mark_delay
        """How long the mark of a published fast-path row may wait to share a statement."""
        # Two schedules: the worker's back-off (wait_delay .. max_delay) keeps it from spinning
        # while the broker fails; a row's own retries (retry_delay .. max_retry_delay, up to
        # max_retries) must outlast an outage of minutes, or its message would die of it.
        self.service = OutboxService(
            storage,
            broker,
            lock_strategy,
            max_retries=max_retries,
            retry_delay=retry_delay,
            max_retry_delay=max_retry_delay,
            lease_seconds=lease_seconds,
            publish_timeout=publish_timeout,
        )
        self._wake = asyncio.Event()
        self._claim_wanted = True  # rows the fast path does not know of may be waiting
        self._held: list[OutboxMessage] = []  # committed rows leased to this relay at insert
        self._lease_token = new_id()  # one per outbox: every row it leases to itself, any run
        self._unmarked: list[str] = []  # fast-path rows published, their marks not yet written
        self._marks_due = float("inf")  # the loop time by which those marks are written
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._relayed_at = float("-inf")  # the loop time the last relay round ended
        self._claimed_at = float("-inf")  # the loop time the claim path last ran
        self._cleaned_at = float("-inf")  # the loop time the last retention cleanup ran
        self._sampled_at = float("-inf")  # the loop time the backlog gauge was last sampled
        self._progressed_at = float("-inf")  # the loop time a batch last ended (or the start)

    # --- the publisher side --------------------------------------------------------------

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        """Store ``message`` (a `DomainEvent` or a dict with ``event_type``) for relaying."""
        row = OutboxMessage.create(
            topic,
            message,
            message_id=kwargs.get("message_id"),
            correlation_id=kwargs.get("correlation_id"),
            causation_id=kwargs.get("causation_id"),
        )
        uow = get_current_uow()
        fast = (
            self.running and not self._stopping and len(self._held) < HELD_BATCHES * self.batch_size
        )
        if fast:
            self._lease_to_self(row)
        with outbox_write(row.topic, row.message_id, row.correlation_id) as trace_headers:
            # The row remembers where it was written, so its publish joins the same trace.
            row.headers = {**(kwargs.get("headers") or {}), **trace_headers} or None
            await self.storage.save([row], uow=uow)
        on_stored = partial(self._hand_over, row) if fast else self.wake
        if uow is None:
            on_stored()
        else:
            uow.on_commit(on_stored)  # the row exists only once the transaction commits

    def wake(self) -> None:
        """Ask the worker to look for due rows soon (after the debounce delay)."""
        self._claim_wanted = True
        self._wake.set()

    def _lease_to_self(self, row: OutboxMessage) -> None:
        # What a claim would have written, written by the insert itself (attempts counts it).
        row.status = OutboxStatus.CLAIMED
        row.claim_token = self._lease_token
        row.lease_expires_at = utc_now() + timedelta(seconds=self.service.lease_seconds)
        row.attempts = 1

    def _hand_over(self, row: OutboxMessage) -> None:
        self._held.append(row)
        self._wake.set()

    # --- the worker side -----------------------------------------------------------------

    async def start(self) -> None:
        """Start relaying in the background; raises at once if storage or locks cannot work.

        A missing table (migrations not run) is `MissingTableError` here, naming the table,
        rather than a relay that only logs while its rows stay pending.
        """
        if self._task is not None and not self._task.done():
            return
        await self.storage.verify()
        if self.service.lock_strategy is not None:
            await self.service.lock_strategy.verify()
        self._stopping = False
        self._claim_wanted = True
        self._wake = asyncio.Event()
        self._wake.set()  # rows left by an earlier run go out at once
        self._progressed_at = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the batch in flight and publish the rows handed over, then stop.

        Rows not published stay stored for the next start.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        # Rows committed while the loop was ending: held under our lease, so ours to send.
        await self._relay_held()
        await self._write_marks()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def seconds_since_progress(self) -> float:
        """Seconds since the relay last finished a batch (or started), published or not.

        Idle, it finishes an empty batch every ``poll_interval`` (``max_delay`` while backing
        off); a batch is bounded by the publish timeout. So a figure well past those means the
        loop hangs - a readiness probe's "relay stuck" - whatever the broker says.
        """
        return asyncio.get_running_loop().time() - self._progressed_at

    async def list_dead(self, limit: int = 100) -> list[OutboxMessage]:
        """Messages that failed ``max_retries`` times, with their last error."""
        return await self.storage.list_dead(limit)

    async def redrive(self, message_id: str) -> bool:
        """Give a dead message a fresh set of attempts (after fixing what killed it)."""
        redriven = await self.storage.redrive(message_id)
        if redriven:
            self.wake()
        return redriven

    async def _run(self) -> None:
        delay = 0.0  # current back-off; 0 while the broker is healthy
        while not self._stopping:
            marks_in = max(self._marks_due - asyncio.get_running_loop().time(), 0.0)
            await self._wait(min(delay if delay else self.poll_interval, marks_in))
            if self._stopping:
                return  # stop() publishes what was handed over
            # --8<-- [start:debounce]
            loop = asyncio.get_running_loop()
            if loop.time() - self._relayed_at < self.wait_delay:
                # Woken right after a round: a burst is on, let its commits gather into one
                # batch. A wake-up after a quiet spell is a lone message: it goes at once.
                await asyncio.sleep(self.wait_delay)
            # --8<-- [end:debounce]
            self._wake.clear()
            result = await self._relay_held()
            if self._claim_wanted or delay or loop.time() - self._claimed_at >= self.poll_interval:
                # The claim path, when asked, while backing off, and at least every poll
                # interval: rows of other processes or of an earlier run, retries now due.
                self._claim_wanted = False
                self._claimed_at = loop.time()
                claimed = await self._relay_until_idle()
                broken = result is _BROKEN or claimed is _BROKEN
                result = _BROKEN if broken else _sum(result, claimed)
            self._relayed_at = loop.time()
            if metrics.enabled() and loop.time() - self._sampled_at >= self.poll_interval:
                # A gauge, not an event: once per poll interval is enough for any scrape, and
                # the marks still gathering are written first - a published row is not waiting.
                self._sampled_at = loop.time()
                if await self._write_marks():
                    await self._sample_backlog()
            await self._clean_up_if_due()
            if result.failed or result.dead or result is _BROKEN:
                delay = min(max(delay * 2, self.wait_delay), self.max_delay)
            else:
                delay = 0.0

    async def _relay_held(self) -> BatchResult:
        """Publish the rows handed over by commits (the fast path), a batch at a time."""
        total = BatchResult()
        while self._held:
            batch, self._held = self._held[: self.batch_size], self._held[self.batch_size :]
            try:
                published, result = await self.service.publish_held(batch)
            except Exception:
                # Recording a failure failed (storage unreachable): the rows stay leased, and
                # the claim path takes them over once the lease runs out.
                logger.exception("outbox relay of committed rows failed; backing off")
                return _BROKEN
            self._progressed_at = asyncio.get_running_loop().time()
            total = _sum(total, result)
            if published and not self._unmarked:
                self._marks_due = asyncio.get_running_loop().time() + self.mark_delay
            self._unmarked.extend(published)
            if len(self._unmarked) >= self.batch_size and not await self._write_marks():
                return _BROKEN
        if asyncio.get_running_loop().time() >= self._marks_due and not await self._write_marks():
            return _BROKEN
        return total

    async def _write_marks(self) -> bool:
        """Mark the published fast-path rows in one statement; False when storage failed."""
        message_ids, self._unmarked = self._unmarked, []
        self._marks_due = float("inf")
        if not message_ids:
            return True
        try:
            await self.service.mark_published(message_ids, self._lease_token)
        except Exception:
            # The rows stay leased to us: once the lease runs out the claim path publishes
            # them again, and the receivers' inboxes absorb the duplicates.
            logger.exception("marking %d published outbox rows failed", len(message_ids))
            return False
        return True

    async def _relay_until_idle(self) -> BatchResult:
        """Relay full batches back to back; stop at a partial one, a failure or ``stop()``."""
        while True:
            try:
                result = await self.service.run_batch(self.batch_size)
                self._progressed_at = asyncio.get_running_loop().time()
            except asyncio.CancelledError:
                if _being_cancelled():
                    raise  # stop() or the service's shutdown: the relay ends here
                logger.exception("outbox relay batch was cancelled from inside; backing off")
                return _BROKEN
            except Exception:
                logger.exception("outbox relay batch failed; backing off")
                self._progressed_at = asyncio.get_running_loop().time()  # failing, not stuck
                return _BROKEN
            if result.failed or result.dead or result.claimed < self.batch_size:
                return result
            if self._stopping:
                return result

    async def _sample_backlog(self) -> None:
        """What is still waiting, for the backlog metrics (a storage failure only skips it)."""
        try:
            count, oldest = await self.storage.backlog()
        except Exception:
            logger.debug("could not sample the outbox backlog", exc_info=True)
            return
        metrics.outbox_sampled(self.name, count, oldest, utc_now())

    async def _clean_up_if_due(self) -> None:
        """Run the retention cleanup when its interval has passed (never on every round)."""
        now = asyncio.get_running_loop().time()
        if self.retention is None or now - self._cleaned_at < self.retention.interval:
            return
        self._cleaned_at = now
        try:
            purged = await self.retention.run_once()
        except Exception:
            # The next interval tries again; relaying must not stop for housekeeping.
            logger.exception("outbox retention cleanup failed")
            return
        if purged.outbox_rows or purged.inbox_records:
            logger.info(
                "retention deleted %d published outbox rows and %d inbox records",
                purged.outbox_rows,
                purged.inbox_records,
            )

    async def _wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()


def _sum(a: BatchResult, b: BatchResult) -> BatchResult:
    return BatchResult(
        a.claimed + b.claimed, a.published + b.published, a.failed + b.failed, a.dead + b.dead
    )


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


_BROKEN = BatchResult()
"""A batch that raised (storage unreachable): treated like a failure, so the worker backs off."""
