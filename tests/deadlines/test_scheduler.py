"""`DeadlineScheduler`: due deadlines fire once, after a restart too, in the story's context.

Time is the test's `OffsetClock`, never a sleep: "thirty seconds later" is ``clock.advance``.
Replicas are real: several schedulers polling one database at once, each with its own storage
object (as separate processes would open), firing with an ``await`` inside - the moment a
second scheduler could take the same deadline if the claim did not exclude it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from cqrs_ddd_core.ports.deadlines import Deadline, DeadlineStatus
from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id
from tests.deadlines.conftest import Backend


def due_in(backend: Backend, key: str, seconds: float) -> Deadline:
    return Deadline(
        name="payment",
        key=key,
        due_at=backend.clock() + timedelta(seconds=seconds),
        correlation_id=f"story-{key}",
    )


async def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` (the schedulers run in the background) up to a generous bound."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - the state is the schedulers' counters
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout}s") from None


async def test_every_deadline_fires_exactly_once_with_several_schedulers_polling(
    backend: Backend,
) -> None:
    fired: Counter[str] = Counter()

    async def fire(deadline: Deadline) -> None:
        await asyncio.sleep(0.001)  # hold the claim across an await
        fired[deadline.key] += 1

    storage = backend.storage()
    keys = [f"order-{n}" for n in range(60)]
    for key in keys:
        await storage.schedule(due_in(backend, key, 30))
    schedulers = [
        DeadlineScheduler(backend.storage(), fire, poll_interval=0.01, batch_size=7)
        for _ in range(3)
    ]
    for scheduler in schedulers:
        await scheduler.start()
    try:
        backend.clock.advance(31)
        await wait_until(lambda: sum(fired.values()) >= len(keys), "every deadline fired")
    finally:
        for scheduler in schedulers:
            await scheduler.stop()

    assert fired == Counter(keys)
    assert sum(s.fired for s in schedulers) == len(keys)
    assert (await storage.count_by_status())[DeadlineStatus.FIRED] == len(keys)


async def test_a_deadline_that_fell_due_while_no_scheduler_ran_fires_after_the_start(
    backend: Backend,
) -> None:
    fired: list[str] = []

    async def fire(deadline: Deadline) -> None:
        fired.append(deadline.key)

    await backend.storage().schedule(due_in(backend, "order-1", 30))
    before = DeadlineScheduler(backend.storage(), fire, poll_interval=0.01)
    await before.start()
    await wait_until(lambda: before.rounds >= 2, "a few polls while it was not due")
    await before.stop()
    assert fired == []

    backend.clock.advance(3600)  # the service was down for an hour
    after = DeadlineScheduler(backend.storage(), fire, poll_interval=0.01)
    await after.start()
    try:
        await wait_until(lambda: fired, "the deadline fired after the restart")
    finally:
        await after.stop()

    assert fired == ["order-1"]


async def test_a_deadline_claimed_by_a_scheduler_that_died_fires_when_its_lease_runs_out(
    backend: Backend,
) -> None:
    fired: list[str] = []

    async def fire(deadline: Deadline) -> None:
        fired.append(deadline.key)

    await backend.storage().schedule(due_in(backend, "order-1", 0))
    # The dead scheduler claimed it and never marked it fired.
    [lost] = await backend.storage().claim_due(10, lease_seconds=30)
    survivor = DeadlineScheduler(backend.storage(), fire, poll_interval=0.01, lease_seconds=30)

    assert await survivor.run_once() == 0
    backend.clock.advance(31)
    assert await survivor.run_once() == 1

    assert fired == ["order-1"]
    stored = await backend.storage().get(lost.deadline_id)
    assert stored is not None
    assert stored.status is DeadlineStatus.FIRED


async def test_a_deadline_whose_firing_fails_is_retried_later(backend: Backend) -> None:
    attempts: list[str] = []

    async def fire(deadline: Deadline) -> None:
        attempts.append(deadline.key)
        if len(attempts) == 1:
            raise ConnectionError("the database went away")

    await backend.storage().schedule(due_in(backend, "order-1", 0))
    scheduler = DeadlineScheduler(backend.storage(), fire, retry_delay=5)

    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0  # not due again yet
    backend.clock.advance(6)
    assert await scheduler.run_once() == 1

    assert attempts == ["order-1", "order-1"]
    assert (scheduler.failed, scheduler.fired) == (1, 1)


async def test_a_deadline_fires_in_the_story_that_scheduled_it(backend: Backend) -> None:
    seen: list[tuple[str | None, str | None]] = []

    async def fire(deadline: Deadline) -> None:
        seen.append((get_correlation_id(), get_causation_id()))

    deadline = due_in(backend, "order-1", 0)
    await backend.storage().schedule(deadline)
    await DeadlineScheduler(backend.storage(), fire).run_once()

    assert seen == [("story-order-1", deadline.deadline_id)]
    assert get_correlation_id() is None  # restored afterwards
