"""docs/reference/consumers.md, "With RabbitMQ": the example run as written, on RabbitMQ.

Fill-ins: ``rabbitmq_consumer`` is a `RabbitMQConsumer` on this test run's virtual host,
``event_registry`` knows ``OrderCreated`` and ``OrderConfirmed``, ``event_dispatcher`` records
what it dispatches. The example names its queue and exchange (``order-service-orders``,
``orders``); they are deleted afterwards so a later test in the run starts clean.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.handler import EventHandler
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from tests.spec_examples.spec_domain import OrderConfirmed, OrderCreated, fresh_journal, journal

pytestmark = pytest.mark.rabbitmq

QUEUES = ["order-service-orders", "order-service-orders.retry", "order-service-orders.dead-letter"]


class UpdateProjectionHandler(EventHandler[DomainEvent]):
    def __init__(self, arrived: asyncio.Event) -> None:
        self.arrived = arrived

    async def handle(self, event: DomainEvent) -> None:
        journal.events.append(("UpdateProjectionHandler", event))
        if len(journal.events) == 2:
            self.arrived.set()


@pytest.fixture
async def rabbitmq_consumer(rabbitmq_url: str) -> AsyncIterator[RabbitMQConsumer]:
    consumer = RabbitMQConsumer(rabbitmq_url, "orders")
    try:
        yield consumer
    finally:
        await consumer.stop()
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            for queue in QUEUES:
                await channel.queue_delete(queue)
            await channel.exchange_delete("orders")


async def test_with_rabbitmq(rabbitmq_url: str, rabbitmq_consumer: RabbitMQConsumer) -> None:
    fresh_journal()
    event_registry = EventTypeRegistry()
    event_registry.register("OrderCreated", OrderCreated)
    event_registry.register("OrderConfirmed", OrderConfirmed)
    event_dispatcher = EventDispatcher[DomainEvent]()
    both_arrived = asyncio.Event()
    event_dispatcher.register(OrderCreated, UpdateProjectionHandler(both_arrived))
    event_dispatcher.register(OrderConfirmed, UpdateProjectionHandler(both_arrived))

    # --- spec: BaseEventConsumer / With RabbitMQ ---
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer

    consumer = BaseEventConsumer(
        broker=rabbitmq_consumer,
        topics=["orders.created", "orders.confirmed"],
        registry=event_registry,
        dispatcher=event_dispatcher,
        queue_name="order-service-orders",
        exchange_name="orders",
    )

    await consumer.start()
    # --- end of the example ---

    created = OrderCreated(aggregate_id="order-1", customer_id="cust-1")
    publisher = RabbitMQPublisher(rabbitmq_url, "orders")
    try:
        await publisher.publish("orders.created", created)
        await publisher.publish("orders.confirmed", OrderConfirmed(aggregate_id="order-1"))
    finally:
        await publisher.close()

    await asyncio.wait_for(both_arrived.wait(), timeout=10)
    await consumer.stop()
    assert sorted(type(event).__name__ for _, event in journal.events) == [
        "OrderConfirmed",
        "OrderCreated",
    ]
    assert created in [event for _, event in journal.events]
    assert await rabbitmq_consumer.dead_letters("order-service-orders") == []
