"""Benchmark: outbox relay and inbox consumer throughput, in-process (messages per second).

What is measured, with ~1 KB events:

* **relay**: `OutboxService.process_batch(100)` over an `InMemoryOutboxStorage` into an
  `InMemoryBroker` - claim, publish the batch concurrently, mark the outcomes - next to the
  broker alone (the same payloads published in pipelined batches of 100, nothing stored or
  marked). ``ratio`` = relay / raw: the share of the broker's rate the outbox keeps.
* the same over a broker with a simulated 0.5 ms round trip per publish, where publishing the
  claimed batch concurrently (rather than one confirm at a time) is what the figure shows.
* **consumer with the inbox on**: `BaseEventConsumer` with `InMemoryInboxStorage` and an
  `InMemoryUnitOfWork` per message (inbox check, handler write, inbox record, commit), next to
  the same consumer without inbox and unit of work (hydrate + dispatch), itself next to a bare
  broker subscriber that only decodes the message.

RabbitMQ figures are in benchmarks/rabbitmq.py. Each figure is the median of a few runs in
one process; run: ``just bench messaging`` or ``python -m benchmarks.messaging``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus

UNIT = "msg/s"
RELAY_MESSAGES = 20_000
SLOW_RELAY_MESSAGES = 4_000
CONSUMER_MESSAGES = 10_000
BATCH = 100
ROUND_TRIP = 0.0005
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


async def relay_rate(count: int, publish_delay: float) -> float:
    storage = InMemoryOutboxStorage()
    await storage.save([OutboxMessage.create("PaymentRecorded", e) for e in events(count)])
    broker = InMemoryBroker(publish_delay=publish_delay)
    broker.declare_queue("ledger", ["#"])
    service = OutboxService(storage, broker)
    started = time.perf_counter()
    while await service.process_batch(batch_size=BATCH):
        pass
    elapsed = time.perf_counter() - started
    counts = await storage.count_by_status()
    assert counts[OutboxStatus.PUBLISHED] == count, counts
    assert len(broker.published) == count
    return count / elapsed


async def raw_publish_rate(count: int, publish_delay: float) -> float:
    payloads = [e.to_payload() for e in events(count)]
    broker = InMemoryBroker(publish_delay=publish_delay)
    broker.declare_queue("ledger", ["#"])
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        await asyncio.gather(
            *(broker.publish("PaymentRecorded", p) for p in payloads[start : start + BATCH])
        )
    elapsed = time.perf_counter() - started
    assert len(broker.published) == count
    return count / elapsed


async def consumer_rate(count: int, mode: str) -> float:
    """``mode``: "inbox" (unit of work + inbox), "plain" (hydrate + dispatch), "bare" (decode)."""
    broker = InMemoryBroker()
    broker.declare_queue("ledger", ["PaymentRecorded"])
    for event in events(count):
        await broker.publish("PaymentRecorded", event)
    handled = 0
    store = InMemoryStore()

    async def apply(event: PaymentRecorded) -> None:
        nonlocal handled
        handled += 1
        uow: InMemoryUnitOfWork | None = get_current_uow()
        if uow is not None:
            uow.insert("payments", event.event_id, event.amount)

    async def decode_only(payload: dict[str, Any]) -> None:
        nonlocal handled
        handled += 1

    registry = EventTypeRegistry()
    registry.register("PaymentRecorded", PaymentRecorded)
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(PaymentRecorded, apply)
    with_inbox: dict[str, Any] = {
        "inbox": InMemoryInboxStorage(store),
        "uow_factory": lambda: InMemoryUnitOfWork(store),
    }
    consumer = BaseEventConsumer(
        broker,
        ["PaymentRecorded"],
        dispatcher,
        registry,
        queue_name="ledger",
        **(with_inbox if mode == "inbox" else {}),
    )

    started = time.perf_counter()
    if mode == "bare":
        await broker.subscribe("PaymentRecorded", decode_only, queue_name="ledger")
    else:
        await consumer.start()
    await broker.drain(timeout=120)
    elapsed = time.perf_counter() - started
    await broker.stop()
    assert handled == count, handled
    if mode == "inbox":
        assert len(store.keys("payments")) == count
    return count / elapsed


async def median(measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(REPETITIONS)])


async def measure() -> list[dict[str, Any]]:
    relay = await median(lambda: relay_rate(RELAY_MESSAGES, 0.0))
    raw = await median(lambda: raw_publish_rate(RELAY_MESSAGES, 0.0))
    slow_relay = await median(lambda: relay_rate(SLOW_RELAY_MESSAGES, ROUND_TRIP))
    slow_raw = await median(lambda: raw_publish_rate(SLOW_RELAY_MESSAGES, ROUND_TRIP))
    inbox = await median(lambda: consumer_rate(CONSUMER_MESSAGES, "inbox"))
    plain = await median(lambda: consumer_rate(CONSUMER_MESSAGES, "plain"))
    bare = await median(lambda: consumer_rate(CONSUMER_MESSAGES, "bare"))
    return [
        row("outbox relay, in-memory storage and broker, 1 KB", relay, "broker publish", raw),
        row(
            "outbox relay, broker with 0.5 ms round trip, 1 KB",
            slow_relay,
            "broker publish, pipelined",
            slow_raw,
        ),
        row(
            "consumer with inbox + unit of work, 1 KB",
            inbox,
            "consumer without inbox",
            plain,
        ),
        row("consumer without inbox (hydrate + dispatch), 1 KB", plain, "bare subscriber", bare),
    ]


def row(name: str, value: float, peer: str, peer_value: float) -> dict[str, Any]:
    return {
        "benchmark": name,
        "value": round(value, 1),
        "unit": UNIT,
        "peer": peer,
        "peer_value": round(peer_value, 1),
        "ratio": round(value / peer_value, 3),
    }


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    rows = asyncio.run(measure())
    print_rows(rows, title="messaging throughput (median; ratio = ours / peer)")
    return rows


if __name__ == "__main__":
    main()
