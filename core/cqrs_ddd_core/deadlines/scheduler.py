"""`DeadlineScheduler`: fires the deadlines that fell due - in one process of many, once.

A background worker beside the outbox relay, built the same way: every ``poll_interval`` it
claims the due deadlines with a lease (`IDeadlineStorage.claim_due`: two schedulers never hold
the same one), hands each to ``fire`` and marks it fired. Nothing waits in memory - no
``asyncio.sleep`` per deadline - so a deadline that fell due while every process was down
fires at the first poll after a start, and a thousand waiting orders cost one indexed query
per poll.

The thing to notice is what "once" means here. Marking a deadline fired is a transaction of
its own, after ``fire``: a scheduler that dies in between leaves the deadline claimed, its
lease runs out and another scheduler fires it again - at least once, like the outbox relay.
So ``fire`` must be harmless the second time: it sends a command whose handler looks at the
process's state first (an order no longer waiting for its payment ignores its deadline).
A ``fire`` that raises puts the deadline back, due again after ``retry_delay``.

``fire`` runs inside the deadline's message context: its correlation id is the story that
scheduled it, and its own id is the causation of everything ``fire`` sends.
Tests: tests/deadlines/. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from cqrs_ddd_core.ports.background import IBackgroundWorker
from cqrs_ddd_core.ports.deadlines import Deadline, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.primitives.context import message_context

logger = logging.getLogger(__name__)

FireDeadline = Callable[[Deadline], Awaitable[None]]
"""What a deadline does when it falls due (a service sends a command)."""


class DeadlineScheduler(IBackgroundWorker):
    """Polls ``storage`` for due deadlines and fires each through ``fire``."""

    def __init__(
        self,
        storage: IDeadlineStorage,
        fire: FireDeadline,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 50,
        lease_seconds: float = 30.0,
        retry_delay: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.storage = storage
        self._fire = fire
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.retry_delay = retry_delay
        self._clock = clock
        self.fired = 0
        """Deadlines this scheduler fired (for tests and benchmarks)."""
        self.failed = 0
        self.rounds = 0
        """Polls this worker finished, each after settling all it claimed (for tests: a round
        that began after the clock moved has fired whatever fell due)."""
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --8<-- [start:fire]
    async def run_once(self) -> int:
        """Claim one batch of due deadlines and fire them; how many were claimed."""
        claimed = await self.storage.claim_due(self.batch_size, lease_seconds=self.lease_seconds)
        for deadline in claimed:
            await self._fire_one(deadline)
        return len(claimed)

    async def _fire_one(self, deadline: Deadline) -> None:
        token = deadline.claim_token or ""
        try:
            with message_context(deadline.correlation_id, deadline.deadline_id):
                await self._fire(deadline)
        except Exception as error:
            self.failed += 1
            logger.exception("deadline %s/%s failed to fire; retrying", deadline.name, deadline.key)
            retry_at = self._clock() + timedelta(seconds=self.retry_delay)
            await self.storage.release(
                deadline.deadline_id,
                token,
                error=f"{type(error).__name__}: {error}",
                retry_at=retry_at,
            )
            return
        if await self.storage.mark_fired(deadline.deadline_id, token):
            self.fired += 1
            logger.info("deadline %s/%s fired", deadline.name, deadline.key)
        else:  # our lease ran out meanwhile: another scheduler owns it now
            logger.warning("deadline %s/%s: lease lost while firing", deadline.name, deadline.key)

    # --8<-- [end:fire]

    # --- the worker ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="deadline-scheduler")

    async def stop(self) -> None:
        """Finish the batch in flight (every deadline it claimed), then stop; the rest wait
        in storage."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    def wake(self) -> None:
        """Look for due deadlines now rather than at the next poll (tests that move the clock)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before claiming: a wake during the claim is not lost
            try:
                claimed = await self.run_once()
            except Exception:
                # The claim, or the release or mark of a deadline after its firing, reached no
                # database: what this round claimed and did not settle waits out its lease.
                logger.exception("deadline scheduler round failed; retrying at the next poll")
                claimed = 0
            self.rounds += 1
            if claimed >= self.batch_size:
                continue  # a full batch: more may be due right now
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
