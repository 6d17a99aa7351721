"""Failures against the real broker: retries with a delay, dead letters that say why, and no
acknowledgement for a message that was not processed."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError

pytestmark = pytest.mark.rabbitmq

MakeConsumer = Callable[..., RabbitMQConsumer]
Eventually = Callable[..., Awaitable[None]]
QueueDepth = Callable[[str], Awaitable[int]]


async def test_a_failing_handler_is_retried_after_a_delay_then_dead_lettered_with_its_reason(
    publisher: RabbitMQPublisher,
    make_consumer: MakeConsumer,
    names: str,
    eventually: Eventually,
    queue_depth: QueueDepth,
) -> None:
    attempts: list[float] = []

    async def decline(payload: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        raise ValueError(f"card declined for {payload['order_id']}")

    queue_name = f"{names}.billing"
    consumer = make_consumer(max_attempts=3, retry_delay=0.3)
    await consumer.subscribe("OrderCreated", decline, queue_name=queue_name)
    await publisher.publish(
        "OrderCreated",
        {"event_type": "OrderCreated", "order_id": "o-9"},
        message_id="m-9",
        correlation_id="story-9",
    )

    await eventually(lambda: consumer.dead_letters(queue_name))
    [letter] = await consumer.dead_letters(queue_name)
    assert len(attempts) == 3
    # Each retry waited in the retry queue for its TTL (the broker never delivers earlier).
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(attempts))
    assert letter.message_id == "m-9"
    assert letter.event_type == "OrderCreated"
    assert letter.correlation_id == "story-9"
    assert letter.reason == "ValueError: card declined for o-9 (after 3 attempt(s))"
    assert letter.error_type == "builtins.ValueError"
    assert letter.error_message == "card declined for o-9"
    assert letter.queue == queue_name
    assert letter.topic == "OrderCreated"
    assert letter.attempts == 3
    assert letter.poison is False
    assert letter.payload == {"event_type": "OrderCreated", "order_id": "o-9"}
    # Dead-lettered once, and the original was acknowledged: nothing left to redeliver.
    await asyncio.sleep(0.5)
    assert len(attempts) == 3
    assert await queue_depth(queue_name) == 0
    assert await queue_depth(f"{queue_name}.retry") == 0


async def test_a_handler_that_fails_once_succeeds_on_the_retry_and_nothing_is_dead_lettered(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    calls: list[str] = []

    async def flaky(payload: dict[str, Any]) -> None:
        calls.append(payload["order_id"])
        if len(calls) == 1:
            raise ConnectionError("ledger briefly unavailable")

    queue_name = f"{names}.billing"
    consumer = make_consumer(max_attempts=3, retry_delay=0.1)
    await consumer.subscribe("OrderCreated", flaky, queue_name=queue_name)
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "order_id": "o-1"})

    await eventually(lambda: len(calls) == 2)
    await asyncio.sleep(0.3)
    assert calls == ["o-1", "o-1"]
    assert await consumer.dead_letters(queue_name) == []


async def test_a_retried_message_still_finds_the_handler_of_its_wildcard_topic(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    # Back from the retry queue its routing key is the queue's name; the broker's x-death
    # record still knows the topic it was published under.
    calls: list[str] = []

    async def ship(payload: dict[str, Any]) -> None:
        calls.append(payload["event_type"])
        if len(calls) == 1:
            raise ConnectionError("carrier API briefly unavailable")

    queue_name = f"{names}.shipping"
    consumer = make_consumer(max_attempts=3, retry_delay=0.1)
    await consumer.subscribe("shipping.*", ship, queue_name=queue_name)
    await publisher.publish("shipping.requested", {"event_type": "ShipmentRequested"})

    await eventually(lambda: len(calls) == 2)
    assert calls == ["ShipmentRequested", "ShipmentRequested"]
    assert await consumer.dead_letters(queue_name) == []


async def test_a_poison_message_is_dead_lettered_at_once_with_its_reason(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    calls: list[dict[str, Any]] = []

    async def refuse(payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise PoisonMessageError("Unknown event type 'OrderTeleported': it is not registered")

    queue_name = f"{names}.billing"
    consumer = make_consumer(max_attempts=5, retry_delay=0.1)
    await consumer.subscribe("OrderTeleported", refuse, queue_name=queue_name)
    await publisher.publish("OrderTeleported", {"event_type": "OrderTeleported"})

    await eventually(lambda: consumer.dead_letters(queue_name))
    [letter] = await consumer.take_dead_letters(queue_name)
    assert len(calls) == 1
    assert letter.poison is True
    assert letter.attempts == 1
    assert letter.error_type == "cqrs_ddd_core.primitives.exceptions.PoisonMessageError"
    assert "OrderTeleported" in letter.reason
    assert "not retried" in letter.reason
    assert await consumer.dead_letters(queue_name) == []  # taken


async def test_a_body_that_is_not_json_is_dead_lettered_without_reaching_the_handler(
    raw: AbstractConnection, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    calls: list[dict[str, Any]] = []

    async def handle(payload: dict[str, Any]) -> None:
        calls.append(payload)

    queue_name = f"{names}.billing"
    consumer = make_consumer()
    await consumer.subscribe("OrderCreated", handle, queue_name=queue_name)
    channel = await raw.channel()
    exchange = await channel.get_exchange(f"{names}.events")
    await exchange.publish(
        aio_pika.Message(b"{not json", type="OrderCreated", message_id="bad-1"), "OrderCreated"
    )
    await exchange.publish(
        aio_pika.Message(b"[1, 2]", type="OrderCreated", message_id="bad-2"), "OrderCreated"
    )

    async def both_dead_lettered() -> bool:
        return len(await consumer.dead_letters(queue_name)) == 2

    await eventually(both_dead_lettered)
    letters = {letter.message_id: letter for letter in await consumer.dead_letters(queue_name)}
    assert calls == []
    assert "is not valid JSON" in letters["bad-1"].reason
    assert "is a JSON list, not an object" in letters["bad-2"].reason
    assert letters["bad-1"].body == b"{not json"
    assert letters["bad-1"].payload is None
    assert all(letter.poison for letter in letters.values())


async def test_a_dead_letter_replayed_after_the_fix_is_processed(
    publisher: RabbitMQPublisher, make_consumer: MakeConsumer, names: str, eventually: Eventually
) -> None:
    fixed = False
    processed: list[str] = []

    async def handle(payload: dict[str, Any]) -> None:
        if not fixed:
            raise RuntimeError("invoice template missing")
        processed.append(payload["order_id"])

    queue_name = f"{names}.billing"
    consumer = make_consumer(max_attempts=1)
    await consumer.subscribe("OrderCreated", handle, queue_name=queue_name)
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "order_id": "o-3"})

    await eventually(lambda: consumer.dead_letters(queue_name))
    fixed = True
    assert await consumer.replay_dead_letters(queue_name) == 1

    await eventually(lambda: processed == ["o-3"])
    assert await consumer.dead_letters(queue_name) == []


async def test_a_message_whose_consumer_dies_mid_handling_is_redelivered_to_another(
    rabbitmq_url: str,
    publisher: RabbitMQPublisher,
    make_consumer: MakeConsumer,
    names: str,
    eventually: Eventually,
    queue_depth: QueueDepth,
) -> None:
    started = asyncio.Event()
    first_cut_short: list[bool] = []
    completed_by_second: list[str] = []

    async def hang(payload: dict[str, Any]) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            first_cut_short.append(True)
            raise

    async def complete(payload: dict[str, Any]) -> None:
        completed_by_second.append(payload["order_id"])

    queue_name = f"{names}.billing"
    doomed_connection = await aio_pika.connect_robust(rabbitmq_url)
    first = make_consumer(doomed_connection)
    await first.subscribe("OrderCreated", hang, queue_name=queue_name)
    await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "order_id": "o-5"})
    await asyncio.wait_for(started.wait(), timeout=10)

    second = make_consumer()
    await second.subscribe("OrderCreated", complete, queue_name=queue_name)
    await doomed_connection.close()  # the first replica's process dies mid-handling

    await eventually(lambda: completed_by_second == ["o-5"])
    assert first_cut_short == [True]
    assert await second.dead_letters(queue_name) == []
    assert await queue_depth(queue_name) == 0


async def test_stopping_lets_in_flight_handlers_finish_and_loses_nothing(
    publisher: RabbitMQPublisher,
    make_consumer: MakeConsumer,
    names: str,
    eventually: Eventually,
    queue_depth: QueueDepth,
) -> None:
    gate = asyncio.Event()
    started: list[int] = []
    finished: list[int] = []

    async def slow(payload: dict[str, Any]) -> None:
        started.append(payload["n"])
        await gate.wait()
        finished.append(payload["n"])

    queue_name = f"{names}.billing"
    consumer = make_consumer(prefetch_count=3)
    await consumer.subscribe("OrderCreated", slow, queue_name=queue_name)
    for n in range(8):
        await publisher.publish("OrderCreated", {"event_type": "OrderCreated", "n": n})
    await eventually(lambda: len(started) == 3)

    stopping = asyncio.create_task(consumer.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the three in-flight handlers
    gate.set()
    await asyncio.wait_for(stopping, timeout=10)

    assert sorted(finished) == sorted(started)
    assert len(finished) == 3
    # The three were acknowledged; the other five wait in the queue for the next replica.
    assert await queue_depth(queue_name) == 5
    assert await consumer.dead_letters(queue_name) == []

    rest: list[int] = []

    async def drain(payload: dict[str, Any]) -> None:
        rest.append(payload["n"])

    await make_consumer().subscribe("OrderCreated", drain, queue_name=queue_name)
    await eventually(lambda: len(rest) == 5)
    assert sorted(finished + rest) == list(range(8))
