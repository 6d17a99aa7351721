"""The relay outlives what brokers and crashes throw at it, and never gives up on a row early."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.messaging.support import ItemAdded, RecordingPublisher, eventually


async def test_an_outage_longer_than_the_workers_backoff_does_not_kill_the_message() -> None:
    # The worker backs off for at most 20 ms; the row's own retries are spaced 100 ms and up.
    # Were the row retried on the worker's schedule, its 4 attempts would be spent in ~50 ms.
    down = True
    publisher = RecordingPublisher(fail_when=lambda topic, message: down)
    storage = InMemoryOutboxStorage()
    outbox = BufferedOutbox(
        storage,
        publisher,
        max_retries=3,
        poll_interval=0.02,
        wait_delay=0.005,
        max_delay=0.02,
        retry_delay=0.1,
    )
    await outbox.start()
    try:
        await outbox.publish("ItemAdded", ItemAdded(sku="a"))
        await asyncio.sleep(0.25)  # the broker is down for a quarter of a second
        assert (await storage.count_by_status())[OutboxStatus.DEAD] == 0
        down = False
        await eventually(lambda: len(publisher.published) == 1, what="published after the outage")
    finally:
        await asyncio.wait_for(outbox.stop(), timeout=5)
    assert (await storage.count_by_status())[OutboxStatus.PUBLISHED] == 1


class CancellingOncePublisher(RecordingPublisher):
    """Its first publish ends cancelled from inside, as a client library closing a channel can."""

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        if self.calls == 0:
            self.calls += 1
            raise asyncio.CancelledError("channel closed under the publish")
        await super().publish(topic, message, **kwargs)


async def test_a_publish_cancelled_from_inside_fails_the_row_not_the_relay() -> None:
    publisher = CancellingOncePublisher()
    storage = InMemoryOutboxStorage()
    outbox = BufferedOutbox(
        storage, publisher, poll_interval=0.02, wait_delay=0.005, max_delay=0.02, retry_delay=0.01
    )
    await outbox.start()
    try:
        await outbox.publish("ItemAdded", ItemAdded(sku="a"))
        await eventually(lambda: len(publisher.published) == 1, what="published on the retry")
        assert outbox.running
    finally:
        await asyncio.wait_for(outbox.stop(), timeout=5)


async def test_a_row_whose_relay_keeps_dying_while_publishing_it_ends_dead_with_the_reason() -> (
    None
):
    storage = InMemoryOutboxStorage()
    await storage.save([OutboxMessage.create("ItemAdded", ItemAdded(sku="killer"))])
    # Each claim below is a relay that crashed mid-publish: no outcome was ever recorded.
    service = OutboxService(storage, RecordingPublisher(), max_retries=2, lease_seconds=0.001)
    for _ in range(3):
        assert len(await storage.claim_batch(10, lease_seconds=0.001)) == 1
        await asyncio.sleep(0.005)  # the lease runs out

    result = await service.run_batch(10)

    assert result.dead == 1
    assert result.published == 0
    [dead] = await storage.list_dead()
    assert dead.last_error is not None
    assert "without an outcome" in dead.last_error


@pytest.mark.parametrize("payload", [{"event_type": "Legacy", "n": 1}])
async def test_a_dict_payload_carries_its_row_id_so_copies_can_be_recognised(
    payload: dict[str, Any],
) -> None:
    row = OutboxMessage.create("Legacy", payload)

    assert row.payload["event_id"] == row.message_id
    assert "event_id" not in payload  # the caller's dict is left alone
