"""RabbitMQPublisher against the real broker: what leaves the process, and when publish returns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection, AbstractQueue

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQPublisher
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import PublishError

pytestmark = pytest.mark.rabbitmq


class OrderCreated(DomainEvent):
    customer_id: str
    total: int


async def bound_queue(
    connection: AbstractConnection, exchange: str, queue: str, topic: str, **arguments: object
) -> AbstractQueue:
    """A queue bound to ``topic`` on the publisher's exchange, to read what arrived."""
    channel = await connection.channel()
    topic_exchange = await channel.declare_exchange(
        exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    declared = await channel.declare_queue(queue, durable=True, arguments=dict(arguments) or None)
    await declared.bind(topic_exchange, topic)
    return declared


async def test_an_event_leaves_persistent_with_its_ids_as_properties_and_headers(
    rabbitmq_url: str, raw: AbstractConnection, names: str
) -> None:
    queue = await bound_queue(raw, f"{names}.events", f"{names}.audit", "OrderCreated")
    publisher = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    event = OrderCreated(aggregate_id="order-1", customer_id="c-1", total=42)
    try:
        await publisher.publish(
            "OrderCreated",
            event,
            message_id="outbox-row-1",
            correlation_id="story-1",
            causation_id="command-1",
            headers={"tenant": "acme"},
        )
    finally:
        await publisher.close()

    message = await queue.get(timeout=5)
    await message.ack()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.message_id == "outbox-row-1"
    assert message.type == "OrderCreated"
    assert message.correlation_id == "story-1"
    assert message.routing_key == "OrderCreated"
    assert message.headers["causation_id"] == "command-1"
    assert message.headers["correlation_id"] == "story-1"
    assert message.headers["event_type"] == "OrderCreated"
    assert message.headers["tenant"] == "acme"
    body = json.loads(message.body)
    assert body["event_type"] == "OrderCreated"
    assert body["event_id"] == event.event_id
    assert body["customer_id"] == "c-1"
    assert body["total"] == 42


async def test_publish_returns_only_with_the_brokers_verdict_a_nack_raises(
    rabbitmq_url: str,
    raw: AbstractConnection,
    names: str,
    queue_depth: Callable[[str], Awaitable[int]],
) -> None:
    # A full queue that refuses publishes makes the broker answer Basic.Nack.
    await bound_queue(
        raw,
        f"{names}.events",
        f"{names}.tiny",
        "Ping",
        **{"x-max-length": 1, "x-overflow": "reject-publish"},
    )
    publisher = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    try:
        await publisher.publish("Ping", {"n": 1}, message_id="m-1")
        assert await queue_depth(f"{names}.tiny") == 1  # confirmed means queued
        with pytest.raises(PublishError, match="refused 'Ping'"):
            await publisher.publish("Ping", {"n": 2}, message_id="m-2")
    finally:
        await publisher.close()


async def test_an_unroutable_publish_raises_unless_the_publisher_is_fire_and_forget(
    rabbitmq_url: str, names: str
) -> None:
    strict = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    fire_and_forget = RabbitMQPublisher(rabbitmq_url, f"{names}.events", mandatory=False)
    try:
        # The broker returns it: no consumer declared a queue for the topic yet. The outbox
        # keeps the row and retries instead of losing the event.
        with pytest.raises(PublishError, match="no queue is bound to topic 'NobodyListens'"):
            await strict.publish("NobodyListens", {"n": 1}, message_id="m-1")
        await fire_and_forget.publish("NobodyListens", {"n": 2}, message_id="m-2")
    finally:
        await strict.close()
        await fire_and_forget.close()


async def test_concurrent_publishes_each_await_their_own_confirm(
    rabbitmq_url: str, raw: AbstractConnection, names: str
) -> None:
    queue = await bound_queue(raw, f"{names}.events", f"{names}.all", "#")
    publisher = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    ids = [f"m-{n}" for n in range(300)]
    try:
        await asyncio.gather(
            *(publisher.publish(f"Topic{n % 3}", {"n": n}, message_id=i) for n, i in enumerate(ids))
        )
    finally:
        await publisher.close()

    received = []
    while (message := await queue.get(fail=False, timeout=5)) is not None:
        received.append(message.message_id)
        await message.ack()
    assert sorted(received) == sorted(ids)


async def test_a_publish_option_the_publisher_does_not_know_is_refused(
    rabbitmq_url: str, names: str
) -> None:
    publisher = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    try:
        with pytest.raises(TypeError, match="priority"):
            await publisher.publish("Ping", {"n": 1}, priority=5)
    finally:
        await publisher.close()
