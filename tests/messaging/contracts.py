"""Contract suites for `IOutboxStorage` and `IInboxStorage`: what every storage must honour.

Each storage runs the same tests. A test module subclasses a suite and provides a fixture
returning ``(storage, uow_factory)``, where ``uow_factory()`` makes a unit of work the storage
writes in::

    @pytest.fixture
    def outbox_backend(tmp_path) -> tuple[IOutboxStorage, Callable[[], UnitOfWork]]: ...

    class TestSqliteOutbox(OutboxStorageContract):
        pass

(``inbox_backend`` likewise for `InboxStorageContract`). The outbox storage is given the
``outbox_clock`` fixture (an `OffsetClock`: real time that a test can move forward), so a lease
runs out when a test says so, never because the machine was slow.
Nothing here keeps a transaction open while another one waits on it, so the suites also run on
SQLite, whose writers queue one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus, utc_now
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError
from tests.messaging.support import OffsetClock

UowFactory = Callable[[], UnitOfWork]
Backend = tuple[Any, UowFactory]


class ContractEvent(DomainEvent):
    name: str = "x"


def message(topic: str = "ContractEvent", **fields: Any) -> OutboxMessage:
    return OutboxMessage.create(topic, ContractEvent(**fields))


async def save_committed(backend: Backend, *messages: OutboxMessage) -> None:
    storage, uow_factory = backend
    async with uow_factory() as uow:
        await storage.save(list(messages), uow=uow)
        await uow.commit()


async def race_two_copies(
    uow_factory: UowFactory, process: Callable[[UnitOfWork], Awaitable[bool]]
) -> list[str]:
    """Two copies of one message at once, each in its own unit of work; how each ended, sorted.

    ``process`` returns False to skip its copy; otherwise its unit of work commits.
    """
    outcomes: list[str] = []

    async def copy() -> None:
        try:
            async with uow_factory() as uow:
                if not await process(uow):
                    outcomes.append("skipped")
                    return
                await uow.commit()
                outcomes.append("committed")
        except ConcurrencyError:
            outcomes.append("refused")

    await asyncio.wait_for(asyncio.gather(copy(), copy()), timeout=30)
    return sorted(outcomes)


class OutboxStorageContract:
    """Needs a fixture ``outbox_backend`` -> ``(IOutboxStorage, uow_factory)``."""

    # --- writing in the caller's transaction ---------------------------------------------

    async def test_a_row_saved_in_a_committed_unit_of_work_is_pending(
        self, outbox_backend: Backend
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message(name="stored")
        await save_committed(outbox_backend, row)

        stored = await storage.get(row.message_id)
        assert stored is not None
        assert stored.status is OutboxStatus.PENDING
        assert stored.topic == "ContractEvent"
        assert stored.payload["event_type"] == "ContractEvent"
        assert stored.payload["name"] == "stored"
        assert stored.correlation_id == row.correlation_id
        assert stored.attempts == 0
        assert (await storage.count_by_status())[OutboxStatus.PENDING] == 1

    async def test_a_row_saved_in_a_rolled_back_unit_of_work_never_exists(
        self, outbox_backend: Backend
    ) -> None:
        storage, uow_factory = outbox_backend
        row = message()
        async with uow_factory() as uow:
            await storage.save([row], uow=uow)
            await uow.rollback()

        assert await storage.get(row.message_id) is None
        assert await storage.claim_batch(10, lease_seconds=30) == []
        assert sum((await storage.count_by_status()).values()) == 0

    async def test_a_row_saved_outside_a_unit_of_work_is_stored_at_once(
        self, outbox_backend: Backend
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message()
        await storage.save([row])
        assert (await storage.get(row.message_id)) is not None

    async def test_counts_name_every_status(self, outbox_backend: Backend) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        assert await storage.count_by_status() == dict.fromkeys(OutboxStatus, 0)

    # --- claiming ------------------------------------------------------------------------

    async def test_a_claim_leases_the_oldest_rows_under_one_token(
        self, outbox_backend: Backend
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        rows = [message(name=str(i)) for i in range(5)]
        for row in rows:  # one commit each, so creation order is unambiguous
            await save_committed(outbox_backend, row)

        claimed = await storage.claim_batch(3, lease_seconds=30)

        assert [c.message_id for c in claimed] == [r.message_id for r in rows[:3]]
        assert {c.status for c in claimed} == {OutboxStatus.CLAIMED}
        assert {c.attempts for c in claimed} == {1}
        tokens = {c.claim_token for c in claimed}
        assert len(tokens) == 1
        assert None not in tokens
        for c in claimed:
            assert c.lease_expires_at is not None
            assert c.lease_expires_at > utc_now()
        counts = await storage.count_by_status()
        assert counts[OutboxStatus.CLAIMED] == 3
        assert counts[OutboxStatus.PENDING] == 2

    async def test_concurrent_claims_never_share_a_row(self, outbox_backend: Backend) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        rows = [message(name=str(i)) for i in range(40)]
        await save_committed(outbox_backend, *rows)

        batches = await asyncio.gather(
            *(storage.claim_batch(7, lease_seconds=30) for _ in range(8))
        )

        claimed = [c.message_id for batch in batches for c in batch]
        assert len(claimed) == len(set(claimed)), "a row was claimed twice"
        assert sorted(claimed) == sorted(r.message_id for r in rows)

    async def test_a_leased_row_is_not_claimable_until_its_lease_expires(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message()
        await save_committed(outbox_backend, row)

        first = await storage.claim_batch(10, lease_seconds=30)
        assert [c.message_id for c in first] == [row.message_id]
        assert await storage.claim_batch(10, lease_seconds=30) == []

        outbox_clock.advance(31)  # the first relay "crashed": its lease runs out
        second = await storage.claim_batch(10, lease_seconds=30)

        assert [c.message_id for c in second] == [row.message_id]
        assert second[0].attempts == 2
        assert second[0].claim_token != first[0].claim_token

    async def test_a_relay_whose_lease_expired_cannot_mark_the_row_another_holds(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message()
        await save_committed(outbox_backend, row)
        stale = await storage.claim_batch(1, lease_seconds=30)
        outbox_clock.advance(31)
        current = await storage.claim_batch(1, lease_seconds=30)
        stale_token = stale[0].claim_token or ""

        assert await storage.mark_published([row.message_id], stale_token) == 0
        assert not await storage.mark_failed(
            row.message_id, stale_token, error="late", retry_at=utc_now()
        )
        assert not await storage.mark_dead(row.message_id, stale_token, error="late")
        held = await storage.get(row.message_id)
        assert held is not None
        assert held.status is OutboxStatus.CLAIMED
        assert held.claim_token == current[0].claim_token

    # --- outcomes ------------------------------------------------------------------------

    async def test_a_published_row_is_never_claimed_again(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        rows = [message(), message()]
        await save_committed(outbox_backend, *rows)
        claimed = await storage.claim_batch(10, lease_seconds=30)
        token = claimed[0].claim_token or ""

        marked = await storage.mark_published([r.message_id for r in rows], token)

        assert marked == 2
        stored = await storage.get(rows[0].message_id)
        assert stored is not None
        assert stored.status is OutboxStatus.PUBLISHED
        assert stored.published_at is not None
        outbox_clock.advance(31)  # even after the lease would have run out
        assert await storage.claim_batch(10, lease_seconds=30) == []
        assert (await storage.count_by_status())[OutboxStatus.PUBLISHED] == 2

    async def test_a_failed_row_waits_until_its_retry_time(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        later, soon = message(name="later"), message(name="soon")
        await save_committed(outbox_backend, later, soon)
        claimed = await storage.claim_batch(10, lease_seconds=30)
        token = claimed[0].claim_token or ""

        assert await storage.mark_failed(
            later.message_id,
            token,
            error="E: broker down",
            retry_at=utc_now() + timedelta(seconds=60),
        )
        assert await storage.mark_failed(
            soon.message_id, token, error="E: broker down", retry_at=utc_now()
        )
        outbox_clock.advance(1)  # "soon" is due, "later" (a minute) is not

        retried = await storage.claim_batch(10, lease_seconds=30)
        assert [r.message_id for r in retried] == [soon.message_id]
        assert retried[0].attempts == 2
        assert retried[0].last_error == "E: broker down"
        waiting = await storage.get(later.message_id)
        assert waiting is not None
        assert waiting.status is OutboxStatus.FAILED
        assert waiting.last_error == "E: broker down"

    async def test_a_dead_row_keeps_its_error_and_can_be_redriven(
        self, outbox_backend: Backend
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message()
        await save_committed(outbox_backend, row)
        claimed = await storage.claim_batch(1, lease_seconds=30)

        assert await storage.mark_dead(row.message_id, claimed[0].claim_token or "", error="bad")

        dead = await storage.list_dead()
        assert [(d.message_id, d.status, d.last_error) for d in dead] == [
            (row.message_id, OutboxStatus.DEAD, "bad")
        ]
        assert await storage.claim_batch(10, lease_seconds=30) == []

        assert await storage.redrive(row.message_id)
        assert await storage.list_dead() == []
        again = await storage.claim_batch(10, lease_seconds=30)
        assert [a.message_id for a in again] == [row.message_id]
        assert again[0].attempts == 1, "a redriven row gets a fresh set of attempts"

    async def test_only_a_dead_row_can_be_redriven(self, outbox_backend: Backend) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        row = message()
        await save_committed(outbox_backend, row)
        assert not await storage.redrive(row.message_id)
        assert not await storage.redrive("no-such-message")

    # --- retention -----------------------------------------------------------------------

    async def test_a_purge_deletes_only_published_rows_older_than_the_cutoff(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        old_published, dead, failed = message(), message(), message()
        for row in (old_published, dead, failed):
            await save_committed(outbox_backend, row)
        token = (await storage.claim_batch(3, lease_seconds=30))[0].claim_token or ""
        assert await storage.mark_published([old_published.message_id], token) == 1
        assert await storage.mark_dead(dead.message_id, token, error="bad")
        retry_at = outbox_clock() + timedelta(days=30)
        assert await storage.mark_failed(failed.message_id, token, error="down", retry_at=retry_at)
        unsent = message()  # claimed below and never marked: its message has not left
        await save_committed(outbox_backend, unsent)
        outbox_clock.advance(timedelta(days=8).total_seconds())
        young_published = message()
        await save_committed(outbox_backend, young_published)
        batch = await storage.claim_batch(10, lease_seconds=3600)
        assert [row.message_id for row in batch] == [
            unsent.message_id,
            young_published.message_id,
        ]
        assert await storage.mark_published(
            [young_published.message_id], batch[0].claim_token or ""
        )

        deleted = await storage.purge_published(outbox_clock() - timedelta(days=7))

        assert deleted == 1
        assert await storage.get(old_published.message_id) is None
        for kept in (dead, failed, unsent, young_published):
            assert await storage.get(kept.message_id) is not None, "only old published rows go"

    async def test_a_purge_deletes_at_most_its_limit(
        self, outbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        storage: IOutboxStorage = outbox_backend[0]
        rows = [message() for _ in range(3)]
        await save_committed(outbox_backend, *rows)
        batch = await storage.claim_batch(10, lease_seconds=30)
        await storage.mark_published([r.message_id for r in rows], batch[0].claim_token or "")
        outbox_clock.advance(60)

        assert await storage.purge_published(outbox_clock(), limit=2) == 2
        assert await storage.purge_published(outbox_clock(), limit=2) == 1
        assert sum((await storage.count_by_status()).values()) == 0


class InboxStorageContract:
    """Needs a fixture ``inbox_backend`` -> ``(IInboxStorage, uow_factory)``."""

    async def test_a_record_committed_with_the_effect_is_remembered(
        self, inbox_backend: Backend
    ) -> None:
        inbox, uow_factory = inbox_backend
        assert not await inbox.has_processed("m-1", "billing")
        async with uow_factory() as uow:
            assert not await inbox.has_processed("m-1", "billing", uow=uow)
            await inbox.mark_processed("m-1", "billing", uow=uow)
            assert await inbox.has_processed("m-1", "billing", uow=uow), "its own record"
            await uow.commit()

        assert await inbox.has_processed("m-1", "billing")
        async with uow_factory() as uow:
            assert await inbox.has_processed("m-1", "billing", uow=uow)

    async def test_a_rolled_back_record_is_forgotten(self, inbox_backend: Backend) -> None:
        inbox, uow_factory = inbox_backend
        async with uow_factory() as uow:
            await inbox.mark_processed("m-1", "billing", uow=uow)
            await uow.rollback()
        assert not await inbox.has_processed("m-1", "billing")

    async def test_each_consumer_processes_a_message_once_for_itself(
        self, inbox_backend: Backend
    ) -> None:
        inbox: IInboxStorage = inbox_backend[0]
        await inbox.mark_processed("m-1", "billing")
        assert await inbox.has_processed("m-1", "billing")
        assert not await inbox.has_processed("m-1", "ordering")
        assert not await inbox.has_processed("m-2", "billing")

    async def test_a_second_record_of_a_processed_message_cannot_commit(
        self, inbox_backend: Backend
    ) -> None:
        inbox, uow_factory = inbox_backend
        await inbox.mark_processed("m-1", "billing")

        with pytest.raises(ConcurrencyError):
            async with uow_factory() as uow:
                await inbox.mark_processed("m-1", "billing", uow=uow)
                await uow.commit()
        with pytest.raises(ConcurrencyError):
            await inbox.mark_processed("m-1", "billing")

    async def test_two_copies_processed_at_once_are_recorded_once(
        self, inbox_backend: Backend
    ) -> None:
        inbox, uow_factory = inbox_backend

        async def check_then_record(uow: UnitOfWork) -> bool:
            if await inbox.has_processed("m-1", "billing", uow=uow):
                return False
            await asyncio.sleep(0.02)  # both copies get past the check if they can
            await inbox.mark_processed("m-1", "billing", uow=uow)
            return True

        outcomes = await race_two_copies(uow_factory, check_then_record)

        assert outcomes in (["committed", "refused"], ["committed", "skipped"])
        assert await inbox.has_processed("m-1", "billing")

    async def test_a_record_made_first_says_whether_the_message_is_new(
        self, inbox_backend: Backend
    ) -> None:
        inbox, uow_factory = inbox_backend
        async with uow_factory() as uow:
            assert await inbox.mark_processed_if_new("m-1", "billing", uow=uow)
            assert await inbox.has_processed("m-1", "billing", uow=uow), "its own record"
            await uow.commit()
        async with uow_factory() as uow:
            assert not await inbox.mark_processed_if_new("m-1", "billing", uow=uow)
            assert await inbox.mark_processed_if_new("m-1", "ordering", uow=uow)
            await uow.rollback()
        assert not await inbox.has_processed("m-1", "ordering"), "rolled back with the effect"
        assert not await inbox.mark_processed_if_new("m-1", "billing")
        assert await inbox.mark_processed_if_new("m-2", "billing"), "outside a unit of work"
        assert await inbox.has_processed("m-2", "billing")

    async def test_two_copies_recorded_first_at_once_have_one_effect(
        self, inbox_backend: Backend
    ) -> None:
        inbox, uow_factory = inbox_backend

        async def record_then_work(uow: UnitOfWork) -> bool:
            if not await inbox.mark_processed_if_new("m-1", "billing", uow=uow):
                return False
            await asyncio.sleep(0.02)  # the effect, while the other copy arrives
            return True

        outcomes = await race_two_copies(uow_factory, record_then_work)

        assert outcomes in (["committed", "refused"], ["committed", "skipped"])
        assert await inbox.has_processed("m-1", "billing")

    async def test_a_purge_forgets_old_records_and_still_catches_a_young_redelivery(
        self, inbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        inbox: IInboxStorage = inbox_backend[0]
        await inbox.mark_processed("m-old", "billing")
        outbox_clock.advance(timedelta(days=15).total_seconds())
        await inbox.mark_processed("m-young", "billing")
        await inbox.mark_processed("m-young", "ordering")

        deleted = await inbox.purge_processed(outbox_clock() - timedelta(days=14))

        assert deleted == 1
        assert not await inbox.has_processed("m-old", "billing")
        assert await inbox.has_processed("m-young", "billing")
        assert await inbox.has_processed("m-young", "ordering")
        with pytest.raises(ConcurrencyError):  # a redelivered copy is still refused
            await inbox.mark_processed("m-young", "billing")

    async def test_an_inbox_purge_deletes_at_most_its_limit(
        self, inbox_backend: Backend, outbox_clock: OffsetClock
    ) -> None:
        inbox: IInboxStorage = inbox_backend[0]
        for n in range(3):
            await inbox.mark_processed(f"m-{n}", "billing")
        outbox_clock.advance(60)

        assert await inbox.purge_processed(outbox_clock(), limit=2) == 2
        assert await inbox.purge_processed(outbox_clock(), limit=2) == 1
        assert await inbox.purge_processed(outbox_clock(), limit=2) == 0
