"""RabbitMQConsumer against the real broker: delivery, dispatch, competition and fan-out."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.primitives.context import get_correlation_id

pytestmark = pytest.mark.rabbitmq

MakeConsumer = Callable[..., RabbitMQConsumer]
Eventually = Callable[..., Awaitable[None]]


async def test_a_subscriber_receives_the_payload_with_its_event_type_and_correlation(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def handle(payload: dict[str, Any]) -> None:
        received.append((payload, get_correlation_id()))

    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", handle, queue_name=f"{names}.billing")
    await publisher.publish(
        "OrderCreated",
        {"event_type": "OrderCreated", "event_id": "e-1", "order_id": "o-1"},
        correlation_id="story-7",
    )

    await eventually(lambda: len(received) == 1)
    payload, correlation_id = received[0]
    assert payload == {"event_type": "OrderCreated", "event_id": "e-1", "order_id": "o-1"}
    assert correlation_id == "story-7"


async def test_a_body_without_event_type_gets_it_from_the_type_property(
    raw: AbstractConnection, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    received: list[dict[str, Any]] = []

    async def handle(payload: dict[str, Any]) -> None:
        received.append(payload)

    consumer = make_consumer()
    await consumer.subscribe("PaymentCaptured", handle, queue_name=f"{names}.ordering")
    channel = await raw.channel()
    exchange = await channel.get_exchange(f"{names}.events")
    await exchange.publish(
        aio_pika.Message(json.dumps({"order_id": "o-1"}).encode(), type="PaymentCaptured"),
        routing_key="PaymentCaptured",
    )

    await eventually(lambda: len(received) == 1)
    assert received[0] == {"order_id": "o-1", "event_type": "PaymentCaptured"}


async def test_several_topics_share_one_queue_and_each_type_reaches_its_handler(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    seen: list[tuple[str, str]] = []

    def recorder(name: str) -> Callable[[dict[str, Any]], Any]:
        async def handle(payload: dict[str, Any]) -> None:
            seen.append((name, payload["event_type"]))

        return handle

    consumer = make_consumer()
    queue_name = f"{names}.ordering"
    await consumer.subscribe("PaymentCaptured", recorder("captured"), queue_name=queue_name)
    await consumer.subscribe("PaymentFailed", recorder("failed"), queue_name=queue_name)
    # A wildcard binding: the routing key differs from the type, dispatch still finds it.
    await consumer.subscribe("shipping.*", recorder("shipping"), queue_name=queue_name)

    await publisher.publish("PaymentCaptured", {"event_type": "PaymentCaptured"})
    await publisher.publish("PaymentFailed", {"event_type": "PaymentFailed"})
    await publisher.publish("shipping.dispatched", {"event_type": "ShipmentDispatched"})

    await eventually(lambda: len(seen) == 3)
    assert sorted(seen) == [
        ("captured", "PaymentCaptured"),
        ("failed", "PaymentFailed"),
        ("shipping", "ShipmentDispatched"),
    ]


async def test_replicas_on_one_queue_compete_each_message_handled_once(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    handled: dict[str, list[int]] = {"a": [], "b": []}

    def replica(name: str) -> Callable[[dict[str, Any]], Any]:
        async def handle(payload: dict[str, Any]) -> None:
            await asyncio.sleep(0.01)  # a handler that takes a while lets both replicas work
            handled[name].append(payload["n"])

        return handle

    queue_name = f"{names}.billing"
    await make_consumer(prefetch_count=2).subscribe(
        "OrderCreated", replica("a"), queue_name=queue_name
    )
    await make_consumer(prefetch_count=2).subscribe(
        "OrderCreated", replica("b"), queue_name=queue_name
    )
    await asyncio.gather(
        *(
            publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": n})
            for n in range(60)
        )
    )

    await eventually(lambda: len(handled["a"]) + len(handled["b"]) >= 60)
    await asyncio.sleep(0.2)  # a duplicate would show up now
    everything = Counter(handled["a"] + handled["b"])
    assert set(everything) == set(range(60))
    assert max(everything.values()) == 1
    assert handled["a"]
    assert handled["b"]


async def test_two_queue_names_each_get_every_message(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    billing: list[int] = []
    analytics: list[int] = []

    async def to_billing(payload: dict[str, Any]) -> None:
        billing.append(payload["n"])

    async def to_analytics(payload: dict[str, Any]) -> None:
        analytics.append(payload["n"])

    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", to_billing, queue_name=f"{names}.billing")
    await consumer.subscribe("OrderCreated", to_analytics, queue_name=f"{names}.analytics")
    for n in range(10):
        await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": n})

    await eventually(lambda: len(billing) == 10 and len(analytics) == 10)
    assert sorted(billing) == sorted(analytics) == list(range(10))


async def test_a_queue_declared_ahead_keeps_what_is_published_before_its_consumer_starts(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    queue_name = f"{names}.billing"
    await make_consumer().declare_queue(queue_name, ["OrderCreated"])
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 1})

    received: list[int] = []

    async def handle(payload: dict[str, Any]) -> None:
        received.append(payload["n"])

    await make_consumer().subscribe("OrderCreated", handle, queue_name=queue_name)
    await eventually(lambda: received == [1])


async def test_after_unsubscribing_the_queue_keeps_collecting_for_the_next_subscriber(
    publisher: RabbitMQPublisher,
    make_consumer: MakeConsumer,
    names: str,
    eventually: Eventually,
    queue_depth: Callable[[str], Awaitable[int]],
) -> None:
    queue_name = f"{names}.billing"
    first: list[int] = []
    second: list[int] = []

    async def to_first(payload: dict[str, Any]) -> None:
        first.append(payload["n"])

    async def to_second(payload: dict[str, Any]) -> None:
        second.append(payload["n"])

    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", to_first, queue_name=queue_name)
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 1})
    await eventually(lambda: first == [1])

    await consumer.unsubscribe("OrderCreated", to_first, queue_name=queue_name)
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": 2})
    await eventually(lambda: queue_depth(queue_name), timeout=5)  # kept, not delivered
    assert first == [1]

    await consumer.subscribe("OrderCreated", to_second, queue_name=queue_name)
    await eventually(lambda: second == [2])


async def test_no_more_messages_are_handled_at_once_than_the_prefetch_count(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    in_hand = 0
    most_in_hand = 0
    done: list[int] = []

    async def hold(payload: dict[str, Any]) -> None:
        nonlocal in_hand, most_in_hand
        in_hand += 1
        most_in_hand = max(most_in_hand, in_hand)
        await asyncio.sleep(0.05)  # held inside the handler: others could pile up now
        in_hand -= 1
        done.append(payload["n"])

    queue_name = f"{names}.billing"
    consumer = make_consumer(prefetch_count=3)
    await consumer.declare_queue(queue_name, ["OrderCreated"])
    for n in range(12):
        await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": n})
    await consumer.subscribe("OrderCreated", hold, queue_name=queue_name)

    await eventually(lambda: len(done) == 12)
    assert most_in_hand == 3


async def test_one_queue_takes_one_handler_per_topic_and_no_unknown_options(
    make_consumer: MakeConsumer, names: str
) -> None:
    async def first(payload: dict[str, Any]) -> None:
        return None

    async def second(payload: dict[str, Any]) -> None:
        return None

    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", first, queue_name=f"{names}.billing")
    await consumer.subscribe("OrderCreated", first, queue_name=f"{names}.billing")  # idempotent
    with pytest.raises(ValueError, match="already has a handler for topic 'OrderCreated'"):
        await consumer.subscribe("OrderCreated", second, queue_name=f"{names}.billing")
    with pytest.raises(TypeError, match="prefetch"):
        await consumer.subscribe("OrderCreated", first, queue_name=f"{names}.x", prefetch=5)
