"""After the broker drops every connection (as a restart does), publisher and consumer resume
by themselves: robust connections reopen channels, queues, bindings and consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher

pytestmark = pytest.mark.rabbitmq


async def test_publisher_and_consumer_resume_after_the_broker_drops_their_connections(
    publisher: RabbitMQPublisher,
    make_consumer: Callable[..., RabbitMQConsumer],
    names: str,
    eventually: Callable[..., Awaitable[None]],
    drop_connections: Callable[[], None],
) -> None:
    received: list[int] = []

    async def handle(payload: dict[str, Any]) -> None:
        received.append(payload["n"])

    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", handle, queue_name=f"{names}.billing")
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 1})
    await eventually(lambda: received == [1])

    drop_connections()

    # The first publish may meet the link down: the publisher waits for the channel to be
    # restored and tries again, returning only once the broker confirmed.
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 2})
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 3})
    await eventually(lambda: sorted(set(received)) == [1, 2, 3], timeout=20)
    assert await consumer.dead_letters(f"{names}.billing") == []


async def test_no_confirmed_message_is_lost_when_the_connection_drops_mid_publishing(
    publisher: RabbitMQPublisher,
    make_consumer: Callable[..., RabbitMQConsumer],
    names: str,
    eventually: Callable[..., Awaitable[None]],
    drop_connections: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: set[int] = set()

    async def handle(payload: dict[str, Any]) -> None:
        received.add(payload["n"])

    consumer = make_consumer(prefetch_count=50)
    await consumer.subscribe("OrderCreated", handle, queue_name=f"{names}.billing")
    await publisher.connect()

    confirmed: list[int] = []

    async def publish_batch() -> None:
        batch = range(len(confirmed), len(confirmed) + 20)  # 20 in flight at a time
        await asyncio.gather(
            *(
                publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": i})
                for i in batch
            )
        )
        confirmed.extend(batch)

    dropping = asyncio.create_task(asyncio.to_thread(drop_connections))
    while not dropping.done():
        await publish_batch()
    for _ in range(5):  # and publishing goes on afterwards
        await publish_batch()
    await dropping

    assert "lost the link to RabbitMQ" in caplog.text  # the drop did hit publishes in flight
    # At-least-once: every confirmed message arrives (a retried one may arrive twice).
    await eventually(lambda: received >= set(confirmed), timeout=30)
