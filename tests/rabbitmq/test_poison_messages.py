"""Poison on the real broker: every message of the poison table is dead-lettered at its first
delivery with its reason, never retried (tests/edge/poison.py holds the table)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer
from tests.edge.poison import PROBES, TOPIC, PoisonProbe, RecordingConsumer

pytestmark = pytest.mark.rabbitmq

MakeConsumer = Callable[..., RabbitMQConsumer]
Eventually = Callable[..., Awaitable[None]]


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
async def test_a_message_no_retry_can_cure_is_dead_lettered_at_its_first_delivery(
    probe: PoisonProbe,
    raw: AbstractConnection,
    make_consumer: MakeConsumer,
    names: str,
    eventually: Eventually,
) -> None:
    queue_name = f"{names}.billing"
    broker = make_consumer(max_attempts=5, retry_delay=0.05)
    recording = RecordingConsumer(broker, queue_name)
    await recording.consumer.start()
    channel = await raw.channel()
    exchange = await channel.get_exchange(f"{names}.events")
    await exchange.publish(aio_pika.Message(probe.body, type=TOPIC, message_id="m-1"), TOPIC)

    await eventually(lambda: broker.dead_letters(queue_name))
    await asyncio.sleep(0.3)  # a retry would be back by now
    [letter] = await broker.dead_letters(queue_name)
    assert letter.poison is True
    assert letter.attempts == 1
    assert probe.reason in letter.reason
    assert len(recording.handled) <= 1  # at most the one delivery that found the poison
    await recording.consumer.stop()
