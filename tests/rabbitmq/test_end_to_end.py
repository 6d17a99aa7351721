"""The whole path on the real broker: outbox -> relay -> RabbitMQ -> consumer -> inbox.

Every event is relayed twice (a relay that lost a confirm publishes its row again) and two
replicas consume the queue at once, so copies of one event race each other. The inbox, in the
same unit of work as the effect, lets exactly one copy commit: each event is applied once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.rabbitmq


class OrderPlaced(DomainEvent):
    customer_id: str
    total: int


async def test_each_relayed_event_is_applied_once_though_delivered_twice_to_racing_replicas(
    publisher: RabbitMQPublisher,
    make_consumer: Callable[..., RabbitMQConsumer],
    names: str,
    eventually: Callable[..., Awaitable[None]],
) -> None:
    # --- billing: two replicas of one consumer, one store, one inbox -------------------------
    store = InMemoryStore()
    inbox = InMemoryInboxStorage(store)
    applied: list[str] = []

    async def issue_invoice(event: OrderPlaced) -> None:
        uow = get_current_uow()
        assert isinstance(uow, InMemoryUnitOfWork)
        uow.insert("invoices", event.aggregate_id or "", {"total": event.total})
        uow.stage(lambda: applied.append(event.event_id))  # only if the commit succeeds

    registry = EventTypeRegistry()
    registry.register("OrderPlaced", OrderPlaced)
    brokers = [make_consumer(prefetch_count=8, retry_delay=0.1) for _ in range(2)]
    replicas = []
    for broker in brokers:
        dispatcher = EventDispatcher[DomainEvent]()
        dispatcher.register(OrderPlaced, issue_invoice)
        replica = BaseEventConsumer(
            broker=broker,
            topics=["OrderPlaced"],
            dispatcher=dispatcher,
            registry=registry,
            queue_name=f"{names}.billing",
            inbox=inbox,
            uow_factory=lambda: InMemoryUnitOfWork(store),
        )
        await replica.start()
        replicas.append(replica)

    # --- ordering: outbox rows, each event twice, relayed to RabbitMQ --------------------------
    outbox = InMemoryOutboxStorage()
    events = [
        OrderPlaced(aggregate_id=f"order-{n}", customer_id="c-1", total=n, correlation_id="s-1")
        for n in range(40)
    ]
    rows = [OutboxMessage.create("OrderPlaced", event) for event in events]
    rows += [
        OutboxMessage.create("OrderPlaced", event, message_id=f"again-{event.event_id}")
        for event in events
    ]
    await outbox.save(rows)
    relay = OutboxService(outbox, publisher)
    while await relay.process_batch(batch_size=25):
        pass

    counts = await outbox.count_by_status()
    assert counts.get(OutboxStatus.PUBLISHED) == 80
    await eventually(lambda: len(applied) == 40, timeout=20)
    await eventually(lambda: inbox.processed_count(f"{names}.billing") == 40)
    assert sorted(applied) == sorted(event.event_id for event in events)
    assert sorted(store.keys("invoices")) == sorted(f"order-{n}" for n in range(40))
    assert sum(replica.processed for replica in replicas) == 40
    # Every second copy was acknowledged without effect (some after losing a commit race).
    await eventually(lambda: sum(replica.duplicates for replica in replicas) == 40)
    assert await brokers[0].dead_letters(f"{names}.billing") == []
    for replica in replicas:
        await replica.stop()


async def test_an_event_the_consumer_does_not_know_is_dead_lettered_at_once(
    publisher: RabbitMQPublisher,
    make_consumer: Callable[..., RabbitMQConsumer],
    names: str,
    eventually: Callable[..., Awaitable[None]],
) -> None:
    broker = make_consumer()
    consumer = BaseEventConsumer(
        broker=broker,
        topics=["OrderPlaced"],
        registry=EventTypeRegistry(),  # OrderPlaced is not registered
        queue_name=f"{names}.billing",
    )
    await consumer.start()
    await publisher.publish("OrderPlaced", OrderPlaced(customer_id="c-1", total=5))

    await eventually(lambda: broker.dead_letters(f"{names}.billing"))
    [letter] = await broker.dead_letters(f"{names}.billing")
    assert letter.poison is True
    assert letter.attempts == 1
    assert "unknown event type 'OrderPlaced'" in letter.reason
    await consumer.stop()
