"""Benchmark: the outbox relay and the consumer on a real RabbitMQ (messages per second).

What is measured, with ~1 KB persistent events on a durable queue:

* **relay**: `OutboxService.process_batch(100)` over an `InMemoryOutboxStorage` into a
  `RabbitMQPublisher` - claim, publish the batch concurrently with publisher confirms, mark
  the rows published - next to **raw aio-pika** publishing the same bodies, persistent, with
  pipelined confirms in windows of the same size (100 in flight), nothing stored or marked.
  ``ratio`` = relay / raw: the share of the broker's rate the outbox keeps (target >= 0.7).
* **consumer**: `RabbitMQConsumer` (decode, dispatch on type, manual ack; prefetch 100) draining
  a filled queue, next to a raw aio-pika consumer that decodes the JSON and acks each message,
  with the same prefetch.

Everything runs on a virtual host of its own (deleted afterwards) when ``rabbitmqctl`` is at
hand, else on unique names that are deleted afterwards. ``AMQP_URL`` picks the broker
(default ``amqp://guest:guest@127.0.0.1:5672/``). Ours and the peer run in turns; each figure
is the median of the runs, and ``ratio`` the median of the per-turn ratios.
Run: ``just bench rabbitmq`` or ``python -m benchmarks.rabbitmq``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.adapters.rabbitmq.envelope import encode
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus

UNIT = "msg/s"
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PUBLISH_MESSAGES = 5_000
CONSUME_MESSAGES = 5_000
BATCH = 100
PREFETCH = 100
REPETITIONS = 5


class PaymentRecorded(DomainEvent):
    """A ~1 KB event: a few fields and a note that fills it up."""

    account_id: str
    amount: str
    note: str


def events(count: int) -> list[PaymentRecorded]:
    return [
        PaymentRecorded(account_id=f"acc-{n}", amount="12.50", note="x" * 760) for n in range(count)
    ]


@contextmanager
def own_virtual_host() -> Iterator[str]:
    """An AMQP URL on a fresh vhost (deleted afterwards), or ``AMQP_URL`` itself."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None or os.geteuid() != 0:
        yield AMQP_URL
        return
    url = urlsplit(AMQP_URL)
    vhost = f"cqrs-bench-{uuid.uuid4().hex[:10]}"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True)
    user = url.username or "guest"
    subprocess.run(
        [ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield urlunsplit((url.scheme, url.netloc, "/" + quote(vhost, safe=""), "", ""))
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, capture_output=True)


class Broker:
    """The names one measurement declares, and their removal afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}"
        self.exchange = f"{self.prefix}.events"
        self.queue = f"{self.prefix}.ledger"

    async def declare_queue(self) -> None:
        """A durable queue bound to every topic, so that publishes are routed and persisted."""
        connection = await aio_pika.connect(self.url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(exchange, "#")

    async def depth(self) -> int:
        connection = await aio_pika.connect(self.url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.queue, passive=True)
            return queue.declaration_result.message_count or 0

    async def clean_up(self) -> None:
        connection = await aio_pika.connect(self.url)
        async with connection:
            channel = await connection.channel()
            for suffix in ("", ".retry", ".dead-letter"):
                await channel.queue_delete(self.queue + suffix)
            await channel.exchange_delete(self.exchange)


async def relay_rate(url: str, count: int) -> float:
    broker = Broker(url)
    await broker.declare_queue()
    storage = InMemoryOutboxStorage()
    await storage.save([OutboxMessage.create("PaymentRecorded", e) for e in events(count)])
    publisher = RabbitMQPublisher(url, broker.exchange)
    service = OutboxService(storage, publisher)
    try:
        await publisher.connect()
        started = time.perf_counter()
        while await service.process_batch(batch_size=BATCH):
            pass
        elapsed = time.perf_counter() - started
        counts = await storage.count_by_status()
        assert counts[OutboxStatus.PUBLISHED] == count, counts
        assert await broker.depth() == count
    finally:
        await publisher.close()
        await broker.clean_up()
    return count / elapsed


async def raw_publish_rate(url: str, count: int) -> float:
    broker = Broker(url)
    await broker.declare_queue()
    # The very bytes and properties the adapter sends: only the outbox around them is missing.
    messages = [encode("PaymentRecorded", e, message_id=e.event_id) for e in events(count)]
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(broker.exchange)
        started = time.perf_counter()
        for start in range(0, count, BATCH):
            await asyncio.gather(
                *(exchange.publish(m, "PaymentRecorded") for m in messages[start : start + BATCH])
            )
        elapsed = time.perf_counter() - started
        assert await broker.depth() == count
    finally:
        await connection.close()
        await broker.clean_up()
    return count / elapsed


async def fill(broker: Broker, count: int) -> None:
    connection = await aio_pika.connect(broker.url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(broker.exchange)
        batch = [encode("PaymentRecorded", e, message_id=e.event_id) for e in events(count)]
        for start in range(0, count, 500):
            await asyncio.gather(
                *(exchange.publish(m, "PaymentRecorded") for m in batch[start : start + 500])
            )


async def consumer_rate(url: str, count: int) -> float:
    broker = Broker(url)
    consumer = RabbitMQConsumer(url, broker.exchange, prefetch_count=PREFETCH)
    handled = 0
    done = asyncio.Event()

    async def handle(payload: dict[str, Any]) -> None:
        nonlocal handled
        handled += 1
        if handled == count:
            done.set()

    try:
        # Declare the topology first, fill the queue, then measure draining it.
        await consumer.declare_queue(broker.queue, ["PaymentRecorded"])
        await fill(broker, count)
        started = time.perf_counter()
        await consumer.subscribe("PaymentRecorded", handle, queue_name=broker.queue)
        await asyncio.wait_for(done.wait(), timeout=120)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
        await broker.clean_up()
    return count / elapsed


async def raw_consumer_rate(url: str, count: int) -> float:
    broker = Broker(url)
    await broker.declare_queue()
    await fill(broker, count)
    handled = 0
    done = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal handled
        json.loads(message.body)  # any consumer decodes what it receives
        await message.ack()
        handled += 1
        if handled == count:
            done.set()

    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.declare_queue(broker.queue, durable=True)
        started = time.perf_counter()
        await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=120)
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
        await broker.clean_up()
    return count / elapsed


async def paired(
    ours: Callable[[], Awaitable[float]], peer: Callable[[], Awaitable[float]]
) -> tuple[float, float, float]:
    """Medians of ours and of the peer, and the median of their ratios, measured in turns:
    on a shared machine the load drifts, and taking turns spreads the drift over both."""
    our_rates: list[float] = []
    peer_rates: list[float] = []
    for _ in range(REPETITIONS):
        our_rates.append(await ours())
        peer_rates.append(await peer())
    ratios = [a / b for a, b in zip(our_rates, peer_rates, strict=True)]
    return (
        statistics.median(our_rates),
        statistics.median(peer_rates),
        statistics.median(ratios),
    )


async def measure(url: str) -> list[dict[str, Any]]:
    relay = await paired(
        lambda: relay_rate(url, PUBLISH_MESSAGES), lambda: raw_publish_rate(url, PUBLISH_MESSAGES)
    )
    consumer = await paired(
        lambda: consumer_rate(url, CONSUME_MESSAGES),
        lambda: raw_consumer_rate(url, CONSUME_MESSAGES),
    )
    return [
        row(
            "outbox relay -> RabbitMQPublisher, confirms, 1 KB",
            *relay,
            peer="raw aio-pika, pipelined confirms",
        ),
        row(
            "RabbitMQConsumer, manual ack, prefetch 100, 1 KB",
            *consumer,
            peer="raw aio-pika consumer, json + manual ack",
        ),
    ]


def row(name: str, value: float, peer_value: float, ratio: float, *, peer: str) -> dict[str, Any]:
    return {
        "benchmark": name,
        "value": round(value, 1),
        "unit": UNIT,
        "peer": peer,
        "peer_value": round(peer_value, 1),
        "ratio": round(ratio, 3),
    }


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    with own_virtual_host() as url:
        rows = asyncio.run(measure(url))
    print_rows(
        rows, title="RabbitMQ throughput (medians; ratio = median of ours / raw aio-pika per turn)"
    )
    return rows


if __name__ == "__main__":
    main()
