"""Retention: published outbox rows and old inbox records are deleted by the relay's loop.

The storages' own purges (what goes, what stays, on memory, SQLite and PostgreSQL) are in the
port contracts (tests/messaging/contracts.py); here is the policy and who runs it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from cqrs_ddd_core.adapters.host.plumbing import Plumbing
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import StorageRecipe
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.retention import Purged, Retention
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.messaging.support import ItemAdded, OffsetClock, RecordingPublisher, eventually

DAY = timedelta(days=1).total_seconds()


async def published_row(storage: InMemoryOutboxStorage) -> OutboxMessage:
    row = OutboxMessage.create("ItemAdded", ItemAdded(sku="a"))
    await storage.save([row])
    (claimed,) = await storage.claim_batch(1, lease_seconds=30)
    assert await storage.mark_published([row.message_id], claimed.claim_token or "") == 1
    return row


async def test_the_defaults_keep_inbox_records_longer_than_published_rows() -> None:
    clock = OffsetClock()
    outbox, inbox = InMemoryOutboxStorage(clock=clock), InMemoryInboxStorage(clock=clock)
    old_row = await published_row(outbox)
    await inbox.mark_processed("m-10-days", "stock")
    clock.advance(10 * DAY)
    retention = Retention(outbox, inbox, clock=clock)

    purged = await retention.run_once()

    assert purged == Purged(outbox_rows=1, inbox_records=0)
    assert await outbox.get(old_row.message_id) is None, "published 10 days ago: past 7 days"
    assert await inbox.has_processed("m-10-days", "stock"), "a copy may still come: kept"

    clock.advance(5 * DAY)
    assert await retention.run_once() == Purged(outbox_rows=0, inbox_records=1)
    assert not await inbox.has_processed("m-10-days", "stock")


async def test_a_cleanup_goes_through_every_old_row_in_batches() -> None:
    clock = OffsetClock()
    outbox = InMemoryOutboxStorage(clock=clock)
    for _ in range(5):
        await published_row(outbox)
    clock.advance(8 * DAY)

    purged = await Retention(outbox, None, batch_size=2, clock=clock).run_once()

    assert purged.outbox_rows == 5
    assert sum((await outbox.count_by_status()).values()) == 0


def test_a_retention_without_a_positive_age_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Retention(InMemoryOutboxStorage(), inbox_age=timedelta(0))


class CountingRetention(Retention):
    runs = 0

    async def run_once(self) -> Purged:
        self.runs += 1
        return await super().run_once()


async def test_the_relays_loop_runs_the_cleanup_at_its_interval_not_every_round() -> None:
    clock = OffsetClock()
    storage = InMemoryOutboxStorage(clock=clock)
    old_row = await published_row(storage)
    clock.advance(8 * DAY)
    retention = CountingRetention(storage, None, interval=3600, clock=clock)
    publisher = RecordingPublisher()
    outbox = BufferedOutbox(
        storage, publisher, poll_interval=0.01, wait_delay=0.001, retention=retention
    )

    await outbox.start()
    try:
        await eventually(
            lambda: _gone(storage, old_row.message_id), what="the first cleanup, at start"
        )
        for n in range(20):  # twenty relay rounds, some with work
            await outbox.publish("ItemAdded", ItemAdded(sku=str(n)))
            await asyncio.sleep(0.01)
        await eventually(lambda: len(publisher.published) == 20, what="every message relayed")
    finally:
        await outbox.stop()

    assert retention.runs == 1, "once per interval (an hour here), not on every round"
    assert (await storage.count_by_status())[OutboxStatus.PUBLISHED] == 20


async def _gone(storage: InMemoryOutboxStorage, message_id: str) -> bool:
    return await storage.get(message_id) is None


def test_a_service_reads_its_retention_from_the_environment_and_gives_it_to_its_relay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", "2")
    monkeypatch.setenv("INBOX_RETENTION_DAYS", "30")
    monkeypatch.setenv("RETENTION_INTERVAL", "600")
    recipe = StorageRecipe(
        in_memory=InMemoryUnitOfWork, sql=lambda sessions: InMemoryUnitOfWork(), migrations=Path()
    )

    plumbing = Plumbing.open(ServiceSettings(), recipe, broker=InMemoryBroker())

    retention = plumbing.outbox.retention
    assert retention is not None
    assert (retention.outbox_age, retention.inbox_age) == (timedelta(days=2), timedelta(days=30))
    assert retention.interval == 600
    assert retention.inbox is plumbing.storage.inbox
