"""`OutboxService`: relays race, brokers fail, relays crash - nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.messaging.support import ItemAdded, OffsetClock, RecordingPublisher, eventually


async def filled_storage(count: int) -> InMemoryOutboxStorage:
    storage = InMemoryOutboxStorage()
    await storage.save(
        [OutboxMessage.create("ItemAdded", ItemAdded(sku=f"sku-{i}")) for i in range(count)]
    )
    return storage


async def relay_until_done(service: OutboxService, storage: InMemoryOutboxStorage) -> None:
    """Keep relaying while anything is left to publish (failed rows wait for their retry)."""
    while True:
        await service.process_batch(batch_size=50)
        counts = await storage.count_by_status()
        if counts[OutboxStatus.PUBLISHED] + counts[OutboxStatus.DEAD] == sum(counts.values()):
            return
        await asyncio.sleep(0)


def broker_publishes(broker: InMemoryBroker) -> Counter[str]:
    return Counter(envelope.message_id for envelope in broker.published)


async def test_four_racing_relays_publish_each_of_1000_messages_exactly_once() -> None:
    storage = await filled_storage(1000)
    broker = InMemoryBroker(publish_delay=0.001)  # every publish holds an await
    broker.declare_queue("audit", ["#"])
    relays = [OutboxService(storage, broker, retry_delay=0.001) for _ in range(4)]

    await asyncio.wait_for(
        asyncio.gather(*(relay_until_done(relay, storage) for relay in relays)), timeout=30
    )

    published = broker_publishes(broker)
    assert len(published) == 1000
    assert set(published.values()) == {1}, "a message was published twice"
    assert (await storage.count_by_status())[OutboxStatus.PUBLISHED] == 1000


async def test_racing_relays_with_a_failing_broker_still_publish_everything_once() -> None:
    storage = await filled_storage(1000)
    broker = InMemoryBroker(publish_delay=0.0005)
    broker.declare_queue("audit", ["#"])
    broker.fail_next_publishes(150)
    relays = [
        OutboxService(storage, broker, max_retries=20, retry_delay=0.001, max_retry_delay=0.01)
        for _ in range(4)
    ]

    await asyncio.wait_for(
        asyncio.gather(*(relay_until_done(relay, storage) for relay in relays)), timeout=30
    )

    published = broker_publishes(broker)
    assert len(published) == 1000
    assert set(published.values()) == {1}
    counts = await storage.count_by_status()
    assert counts[OutboxStatus.PUBLISHED] == 1000
    assert counts[OutboxStatus.DEAD] == 0
    retried = [m for m in storage._rows.values() if m.attempts > 1]
    assert len(retried) == 150, "each injected failure was retried"
    assert all(m.last_error and "ConnectionError" in m.last_error for m in retried)


async def test_each_row_is_marked_by_its_own_outcome() -> None:
    storage = InMemoryOutboxStorage()
    good = OutboxMessage.create("ItemAdded", ItemAdded(sku="good"))
    bad = OutboxMessage.create("ItemAdded", ItemAdded(sku="bad"))
    await storage.save([good, bad])
    publisher = RecordingPublisher(fail_when=lambda topic, payload: payload["sku"] == "bad")
    service = OutboxService(storage, publisher, retry_delay=60)

    assert await service.process_batch(batch_size=10) == 1

    stored_good, stored_bad = await storage.get(good.message_id), await storage.get(bad.message_id)
    assert stored_good is not None
    assert stored_good.status is OutboxStatus.PUBLISHED
    assert stored_bad is not None
    assert stored_bad.status is OutboxStatus.FAILED
    assert stored_bad.last_error == "ConnectionError: recording refused ItemAdded"
    assert stored_bad.next_attempt_at > stored_bad.created_at


async def test_the_relay_hands_over_the_payload_and_the_ids() -> None:
    storage = InMemoryOutboxStorage()
    event = ItemAdded(sku="a", correlation_id="story-1", causation_id="command-1")
    await storage.save([OutboxMessage.create("ItemAdded", event)])
    publisher = RecordingPublisher()

    await OutboxService(storage, publisher).process_batch()

    [sent] = publisher.published
    assert sent.topic == "ItemAdded"
    assert sent.message == event.to_payload()
    assert sent.kwargs == {
        "message_id": event.event_id,
        "correlation_id": "story-1",
        "causation_id": "command-1",
    }


async def test_a_message_that_keeps_failing_is_dead_after_max_retries_with_its_error() -> None:
    storage = InMemoryOutboxStorage()
    row = OutboxMessage.create("ItemAdded", ItemAdded(sku="x"))
    await storage.save([row])
    publisher = RecordingPublisher(fail_when=lambda topic, payload: True)
    service = OutboxService(storage, publisher, max_retries=2, retry_delay=0.001)

    for _ in range(10):
        await service.process_batch()
        await asyncio.sleep(0.005)

    assert publisher.calls == 3, "the first attempt and two retries, then no more"
    [dead] = await storage.list_dead()
    assert dead.message_id == row.message_id
    assert dead.attempts == 3
    assert dead.last_error == "ConnectionError: recording refused ItemAdded"


async def test_a_hung_publish_fails_the_row_instead_of_the_relay() -> None:
    storage = InMemoryOutboxStorage()
    row = OutboxMessage.create("ItemAdded", ItemAdded(sku="x"))
    await storage.save([row])
    service = OutboxService(storage, RecordingPublisher(delay=10), publish_timeout=0.05)

    assert await asyncio.wait_for(service.process_batch(), timeout=5) == 0

    stored = await storage.get(row.message_id)
    assert stored is not None
    assert stored.status is OutboxStatus.FAILED
    assert stored.last_error is not None
    assert stored.last_error.startswith("TimeoutError")


async def test_a_crashed_relays_claim_expires_and_another_relay_publishes_it(
    outbox_clock: OffsetClock,
) -> None:
    storage = InMemoryOutboxStorage(clock=outbox_clock)
    row = OutboxMessage.create("ItemAdded", ItemAdded(sku="x"))
    await storage.save([row])
    hung = RecordingPublisher(delay=10)
    crashing = OutboxService(storage, hung, lease_seconds=30, publish_timeout=30)
    crashed = asyncio.create_task(crashing.process_batch())
    await eventually(lambda: hung.calls == 1, what="the first relay is publishing")
    crashed.cancel()  # the relay dies mid-publish: its row stays claimed

    healthy = RecordingPublisher()
    survivor = OutboxService(storage, healthy)
    assert await survivor.process_batch() == 0, "the lease still holds"
    outbox_clock.advance(31)
    assert await survivor.process_batch() == 1

    assert healthy.counts_by_id() == Counter({row.message_id: 1})
    with pytest.raises(asyncio.CancelledError):
        await crashed


async def test_a_lock_strategy_serialises_relays_one_batch_at_a_time() -> None:
    storage = await filled_storage(200)
    publisher = RecordingPublisher(delay=0.002)  # each batch holds awaits while publishing
    lock = InMemoryLockStrategy()
    batches_in_flight = 0
    most_in_flight = 0
    claim, mark = storage.claim_batch, storage.mark_published

    async def counted_claim(batch_size: int, *, lease_seconds: float) -> list[OutboxMessage]:
        nonlocal batches_in_flight, most_in_flight
        batch = await claim(batch_size, lease_seconds=lease_seconds)
        if batch:
            batches_in_flight += 1
            most_in_flight = max(most_in_flight, batches_in_flight)
        return batch

    async def counted_mark(message_ids: list[str], claim_token: str) -> int:
        nonlocal batches_in_flight
        batches_in_flight -= 1
        return await mark(message_ids, claim_token)

    storage.claim_batch = counted_claim  # type: ignore[method-assign]
    storage.mark_published = counted_mark  # type: ignore[method-assign,assignment]
    relays = [OutboxService(storage, publisher, lock, lock_timeout=5) for _ in range(3)]

    await asyncio.wait_for(
        asyncio.gather(*(relay_until_done(relay, storage) for relay in relays)), timeout=30
    )

    assert most_in_flight == 1, "two relays were inside a batch at once"
    assert set(publisher.counts_by_id().values()) == {1}
    assert len(publisher.published) == 200
    assert await lock.get_active_locks() == []


async def test_without_a_lock_relays_do_overlap_and_claims_alone_keep_them_apart() -> None:
    storage = await filled_storage(200)
    publisher = RecordingPublisher(delay=0.002)
    relays = [OutboxService(storage, publisher) for _ in range(3)]
    overlapped = False

    async def relay(service: OutboxService) -> None:
        nonlocal overlapped
        while await service.process_batch(batch_size=20):
            pass

    async def watch() -> None:
        nonlocal overlapped
        while not overlapped:
            counts = await storage.count_by_status()
            overlapped = counts[OutboxStatus.CLAIMED] > 20  # more than one batch leased
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(asyncio.gather(*(relay(r) for r in relays)), timeout=30)
    watcher.cancel()

    assert overlapped, "the relays never worked at the same time; this test proves nothing"
    assert len(publisher.published) == 200
    assert set(publisher.counts_by_id().values()) == {1}
