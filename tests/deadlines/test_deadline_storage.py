"""The `IDeadlineStorage` contract, on every adapter: in memory, SQLite and PostgreSQL.

A deadline is only as good as its storage: it commits with the transaction that scheduled it
(and vanishes with one rolled back), it is claimed by one scheduler at a time, a claim whose
lease ran out is claimable again, and a cancelled or fired deadline never comes back.
"""

from __future__ import annotations

from datetime import timedelta

from cqrs_ddd_core.ports.deadlines import Deadline, DeadlineStatus
from tests.deadlines.conftest import Backend


def payment_deadline(backend: Backend, key: str, *, in_seconds: float = 30.0) -> Deadline:
    return Deadline(
        name="payment",
        key=key,
        due_at=backend.clock() + timedelta(seconds=in_seconds),
        payload={"order_id": key},
        correlation_id=f"story-{key}",
        causation_id=f"command-{key}",
    )


async def test_a_deadline_is_not_claimed_before_it_falls_due(backend: Backend) -> None:
    storage = backend.storage()
    await storage.schedule(payment_deadline(backend, "order-1"))

    assert await storage.claim_due(10, lease_seconds=30) == []
    backend.clock.advance(31)
    [claimed] = await storage.claim_due(10, lease_seconds=30)

    assert (claimed.key, claimed.payload, claimed.attempts) == (
        "order-1",
        {"order_id": "order-1"},
        1,
    )
    assert (claimed.correlation_id, claimed.causation_id) == ("story-order-1", "command-order-1")


async def test_a_deadline_commits_with_the_transaction_that_scheduled_it(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        await storage.schedule(payment_deadline(backend, "kept"), uow=uow)
        await uow.commit()
    async with new_uow() as uow:
        await storage.schedule(payment_deadline(backend, "rolled-back"), uow=uow)
        await uow.rollback()

    assert [d.key for d in await storage.find("payment", "kept")] == ["kept"]
    assert await storage.find("payment", "rolled-back") == []


async def test_a_claimed_deadline_is_not_claimed_again_until_its_lease_runs_out(
    backend: Backend,
) -> None:
    first, second = backend.storage(), backend.storage()
    await first.schedule(payment_deadline(backend, "order-1", in_seconds=0))

    [claimed] = await first.claim_due(10, lease_seconds=30)
    assert await second.claim_due(10, lease_seconds=30) == []
    backend.clock.advance(31)
    [reclaimed] = await second.claim_due(10, lease_seconds=30)

    assert reclaimed.deadline_id == claimed.deadline_id
    assert reclaimed.claim_token != claimed.claim_token
    assert not await first.mark_fired(claimed.deadline_id, claimed.claim_token or "")
    assert await second.mark_fired(reclaimed.deadline_id, reclaimed.claim_token or "")


async def test_a_fired_deadline_is_never_claimed_again(backend: Backend) -> None:
    storage = backend.storage()
    await storage.schedule(payment_deadline(backend, "order-1", in_seconds=0))
    [claimed] = await storage.claim_due(10, lease_seconds=30)

    assert await storage.mark_fired(claimed.deadline_id, claimed.claim_token or "")
    backend.clock.advance(3600)

    assert await storage.claim_due(10, lease_seconds=30) == []
    stored = await storage.get(claimed.deadline_id)
    assert stored is not None
    assert stored.status is DeadlineStatus.FIRED
    assert stored.fired_at is not None


async def test_a_cancelled_deadline_never_fires(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    await storage.schedule(payment_deadline(backend, "order-1"))
    await storage.schedule(payment_deadline(backend, "order-2"))
    async with new_uow() as uow:
        assert await storage.cancel("payment", "order-1", uow=uow) == 1
        await uow.commit()
    backend.clock.advance(31)

    assert [d.key for d in await storage.claim_due(10, lease_seconds=30)] == ["order-2"]
    [cancelled] = await storage.find("payment", "order-1")
    assert cancelled.status is DeadlineStatus.CANCELLED


async def test_a_cancellation_rolled_back_leaves_the_deadline_pending(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    await storage.schedule(payment_deadline(backend, "order-1", in_seconds=0))
    async with new_uow() as uow:
        await storage.cancel("payment", "order-1", uow=uow)
        await uow.rollback()

    assert [d.key for d in await storage.claim_due(10, lease_seconds=30)] == ["order-1"]


async def test_a_released_deadline_is_due_again_at_its_retry_time_with_the_error(
    backend: Backend,
) -> None:
    storage = backend.storage()
    await storage.schedule(payment_deadline(backend, "order-1", in_seconds=0))
    [claimed] = await storage.claim_due(10, lease_seconds=30)

    retry_at = backend.clock() + timedelta(seconds=5)
    assert await storage.release(
        claimed.deadline_id, claimed.claim_token or "", error="boom", retry_at=retry_at
    )
    assert await storage.claim_due(10, lease_seconds=30) == []
    backend.clock.advance(6)
    [again] = await storage.claim_due(10, lease_seconds=30)

    assert (again.attempts, again.last_error) == (2, "boom")


async def test_due_deadlines_are_claimed_soonest_first_in_batches(backend: Backend) -> None:
    storage = backend.storage()
    for index, seconds in enumerate([3, 1, 2]):
        await storage.schedule(payment_deadline(backend, f"order-{index}", in_seconds=seconds))
    backend.clock.advance(10)

    first = await storage.claim_due(2, lease_seconds=30)
    rest = await storage.claim_due(2, lease_seconds=30)

    assert [d.key for d in first] == ["order-1", "order-2"]
    assert [d.key for d in rest] == ["order-0"]
    counts = await storage.count_by_status()
    assert counts[DeadlineStatus.PENDING] == 3
