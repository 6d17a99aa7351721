"""`OutboxService`: the relay - claim due outbox rows, publish them, record each outcome.

What guarantees that two relays never publish one row twice is the storage's **atomic claim
with a lease** (`IOutboxStorage.claim_batch`): a claimed row belongs to one relay, under a claim
token, until it is marked or its lease expires (the relay crashed). The optional
``lock_strategy`` is a different tool: it *serialises* relays - one batch at a time across all
of them, which keeps publishing roughly in order and stops idle relays from competing - but
correctness never depends on it.

The things to notice in `run_batch`: the claimed batch is published **concurrently** (a broker
with pipelined confirms is several times faster than one confirm at a time); a row is marked
published only after its publish returned; a failure is recorded per row - retried later with
exponential backoff, or dead after ``max_retries`` retries, with its error. Nothing is dropped.
Scenarios: features/core/outbox.feature.
Guide: docs/components/outbox.md, docs/patterns/outbox-flow.md.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from cqrs_ddd_core.observability import metrics
from cqrs_ddd_core.observability.tracing import publishing
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, utc_now
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

logger = logging.getLogger(__name__)

RELAY_LOCK = ResourceIdentifier("OutboxRelay", "default")


@dataclass(frozen=True)
class BatchResult:
    """What one batch did: rows claimed, and how each ended."""

    claimed: int = 0
    published: int = 0
    failed: int = 0
    dead: int = 0


class OutboxService:
    """Processes pending outbox messages: claim (leased) -> publish -> mark.

    ``max_retries`` is the number of retries after the first failed publish; the retry delay
    after the *n*-th failure is ``retry_delay * 2**(n-1)``, capped at ``max_retry_delay``.
    ``lease_seconds`` must outlast a batch: a row whose lease expires mid-publish can be
    claimed again by another relay (a duplicate the receiver's inbox absorbs).
    ``publish_timeout`` bounds publishing a batch: a publish still running then has failed, so
    a hung broker fails rows instead of hanging the relay.
    """

    def __init__(
        self,
        storage: IOutboxStorage,
        publisher: IMessagePublisher,
        lock_strategy: ILockStrategy | None = None,
        *,
        max_retries: int = 5,
        retry_delay: float = 1.0,
        max_retry_delay: float = 300.0,
        lease_seconds: float = 30.0,
        publish_timeout: float = 10.0,
        lock_timeout: float = 1.0,
        lock_resource: ResourceIdentifier = RELAY_LOCK,
    ) -> None:
        self.storage = storage
        self.publisher = publisher
        self.lock_strategy = lock_strategy
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.lease_seconds = lease_seconds
        self.publish_timeout = publish_timeout
        self.lock_timeout = lock_timeout
        self.lock_resource = lock_resource

    async def process_batch(self, batch_size: int = 50) -> int:
        """Relay one batch; returns how many messages were published."""
        return (await self.run_batch(batch_size)).published

    async def run_batch(self, batch_size: int = 50) -> BatchResult:
        """Relay one batch and report every outcome (the background worker backs off on it)."""
        if self.lock_strategy is None:
            return await self._relay(batch_size)
        try:
            token = await self.lock_strategy.acquire(
                self.lock_resource, timeout=self.lock_timeout, ttl=self.lease_seconds
            )
        except LockAcquisitionError:
            return BatchResult()  # another relay is at work; its claim covers the rows
        try:
            return await self._relay(batch_size)
        finally:
            await self.lock_strategy.release(self.lock_resource, token)

    async def _relay(self, batch_size: int) -> BatchResult:
        batch = await self.storage.claim_batch(batch_size, lease_seconds=self.lease_seconds)
        if not batch:
            return BatchResult()
        claim_token = batch[0].claim_token or ""
        batch, lost = await self._bury_lost(batch, claim_token)
        result = await self.relay_held(batch)
        return BatchResult(
            result.claimed + lost, result.published, result.failed, result.dead + lost
        )

    async def relay_held(self, batch: list[OutboxMessage]) -> BatchResult:
        """Publish rows this relay already holds under one claim token, and record each outcome.

        The rows of a claim, or rows leased to their writer when they were inserted (the
        `BufferedOutbox` fast path): either way the lease is ours, so no claim is needed.
        """
        published, result = await self.publish_held(batch)
        if published:
            await self.mark_published(published, batch[0].claim_token or "")
        return result

    async def publish_held(self, batch: list[OutboxMessage]) -> tuple[list[str], BatchResult]:
        """Publish ``batch`` and record its failures; the published rows' ids, not yet marked.

        Marking them is the caller's (`mark_published`), who may gather the marks of several
        batches into one statement.
        """
        if not batch:
            return [], BatchResult()
        claim_token = batch[0].claim_token or ""
        outcomes = await self._publish_all(batch)
        pairs = list(zip(batch, outcomes, strict=True))
        published = [message.message_id for message, outcome in pairs if outcome is None]
        for message, outcome in pairs:
            if outcome is None:
                metrics.relay_published(message.topic)
            else:
                metrics.relay_failed(message.topic, dead=message.attempts > self.max_retries)
        failed = dead = 0
        for message, outcome in pairs:
            if outcome is None:
                continue
            error = f"{type(outcome).__name__}: {outcome}"
            if message.attempts > self.max_retries:
                dead += 1
                logger.error(
                    "outbox message %s (%s) is dead after %d attempts: %s",
                    message.message_id,
                    message.topic,
                    message.attempts,
                    error,
                )
                await self.storage.mark_dead(message.message_id, claim_token, error=error)
            else:
                failed += 1
                retry_at = utc_now() + timedelta(seconds=self._backoff(message.attempts))
                logger.warning(
                    "publishing outbox message %s (%s) failed (attempt %d), retry at %s: %s",
                    message.message_id,
                    message.topic,
                    message.attempts,
                    retry_at.isoformat(),
                    error,
                )
                await self.storage.mark_failed(
                    message.message_id, claim_token, error=error, retry_at=retry_at
                )
        return published, BatchResult(len(batch), len(published), failed, dead)

    async def mark_published(self, message_ids: list[str], claim_token: str) -> None:
        """Mark published rows held under ``claim_token``, in one statement."""
        marked = await self.storage.mark_published(message_ids, claim_token)
        if marked < len(message_ids):
            # Our lease ran out and another relay took rows over: it will publish them
            # again, and the receivers' inboxes absorb the duplicates.
            logger.warning(
                "%d of %d published outbox rows were no longer held by this relay",
                len(message_ids) - marked,
                len(message_ids),
            )

    async def _bury_lost(
        self, batch: list[OutboxMessage], claim_token: str
    ) -> tuple[list[OutboxMessage], int]:
        """Mark dead the rows claimed after their last retry without any recorded outcome.

        Every failure we see is recorded; a row claimed more often than that allows is one
        whose relay died while publishing it, again and again (it may crash the relay).
        """
        allowed = self.max_retries + 1
        lost = [m for m in batch if m.attempts > allowed]
        for message in lost:
            error = (
                f"claimed {message.attempts - 1} times, more than its recorded failures allow: "
                f"a relay was lost while publishing it, without an outcome"
            )
            if message.last_error:
                error += f" (last recorded error: {message.last_error})"
            logger.error(
                "outbox message %s (%s) is dead: %s", message.message_id, message.topic, error
            )
            await self.storage.mark_dead(message.message_id, claim_token, error=error)
        return [m for m in batch if m.attempts <= allowed], len(lost)

    async def _publish_all(self, batch: list[OutboxMessage]) -> list[BaseException | None]:
        """Publish the whole batch at once; each message's outcome (``None`` = published)."""
        tasks = [asyncio.ensure_future(self._publish(message)) for message in batch]
        try:
            # One deadline for the batch: a publish still running then has failed.
            _, unfinished = await asyncio.wait(tasks, timeout=self.publish_timeout)
        finally:
            for task in tasks:
                task.cancel()  # no-op for finished ones; the relay itself may be cancelled
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
        timeout = TimeoutError(f"publish did not finish within {self.publish_timeout}s")
        return [timeout if task in unfinished else _outcome(task) for task in tasks]

    # --8<-- [start:relay-publish]
    async def _publish(self, message: OutboxMessage) -> None:
        with publishing(
            message.topic,
            message.message_id,
            message.headers,
            correlation_id=message.correlation_id,
            causation_id=message.causation_id,
        ) as headers:
            options = {"headers": headers} if headers else {}  # only when there is a context
            await self.publisher.publish(
                message.topic,
                message.payload,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                causation_id=message.causation_id,
                **options,
            )
            # --8<-- [end:relay-publish]

    def _backoff(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 30)
        return float(min(self.retry_delay * 2**exponent, self.max_retry_delay))


def _outcome(task: asyncio.Future[None]) -> BaseException | None:
    # A publish can end cancelled from inside (a client library closing its channel):
    # that is a failed publish like any other, not a reason for the relay to stop.
    if task.cancelled():
        return asyncio.CancelledError("the publish was cancelled")
    return task.exception()
