"""docs/reference/consumers.md: every consumer example of the original README, run as written.

Fill-ins: every broker (``kafka_consumer``, ``rabbitmq_consumer``) is an `InMemoryBroker`;
``SendEmailHandler`` and ``UpdateProjectionHandler`` record what they handle (the first also
sends through an ``email_service`` when it has one); ``event_dispatcher`` and
``event_registry`` are built as the examples build theirs. Each test then publishes an event
and checks it arrived hydrated, once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.handler import EventHandler
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from tests.spec_examples.spec_domain import (
    EmailService,
    OrderConfirmed,
    OrderCreated,
    fresh_journal,
    journal,
)


class SendEmailHandler(EventHandler[Any]):
    def __init__(self, email_service: EmailService | None = None) -> None:
        self.email_service = email_service

    async def handle(self, event: Any) -> None:
        journal.events.append(("SendEmailHandler", event))
        if self.email_service is not None:
            self.email_service.send_order_received(event.customer_id, event.aggregate_id)


class UpdateProjectionHandler(EventHandler[Any]):
    def __init__(self, email_service: EmailService | None = None) -> None:
        self.email_service = email_service

    async def handle(self, event: Any) -> None:
        journal.events.append(("UpdateProjectionHandler", event))


def recording_dispatcher() -> EventDispatcher[DomainEvent]:
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(OrderCreated, UpdateProjectionHandler())
    dispatcher.register(OrderConfirmed, UpdateProjectionHandler())
    return dispatcher


def handled() -> list[tuple[str, str]]:
    return [(name, type(event).__name__) for name, event in journal.events]


async def test_basic_consumer_hydrates_and_dispatches() -> None:
    fresh_journal()
    kafka_consumer = InMemoryBroker()
    event_dispatcher = recording_dispatcher()

    # --- spec: BaseEventConsumer / Basic Consumer ---
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
    from cqrs_ddd_core.domain.event_registry import EventTypeRegistry

    # Register event types for hydration
    registry = EventTypeRegistry()
    registry.register("OrderCreated", OrderCreated)
    registry.register("OrderConfirmed", OrderConfirmed)

    # Create consumer
    consumer = BaseEventConsumer(
        broker=kafka_consumer,
        topics=["order-events", "user-events"],
        dispatcher=event_dispatcher,
        registry=registry,
    )

    # Start consuming
    await consumer.start()

    # Messages automatically:
    # 1. Deserialized from broker
    # 2. Hydrated to domain events
    # 3. Dispatched to handlers
    # --- end of the example ---

    created = OrderCreated(aggregate_id="order-123", customer_id="cust-456")
    await kafka_consumer.publish("order-events", created)
    await kafka_consumer.publish("user-events", OrderConfirmed(aggregate_id="order-123"))
    await kafka_consumer.drain()
    await consumer.stop()
    assert handled() == [
        ("UpdateProjectionHandler", "OrderCreated"),
        ("UpdateProjectionHandler", "OrderConfirmed"),
    ]
    assert journal.events[0][1] == created


async def test_auto_wired_handlers_are_registered_with_the_dispatcher() -> None:
    fresh_journal()
    rabbitmq_consumer = InMemoryBroker()
    email_service = EmailService()

    # --- spec: BaseEventConsumer / Auto-Wire Handlers ---
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    # Register handlers
    handler_registry = HandlerRegistry()
    handler_registry.register_event_handler(OrderCreated, SendEmailHandler())
    handler_registry.register_event_handler(OrderCreated, UpdateProjectionHandler())

    # Create consumer with auto-wiring
    consumer = BaseEventConsumer(
        broker=rabbitmq_consumer,
        topics=["orders"],
        handler_registry=handler_registry,
        handler_factory=lambda cls: cls(email_service=email_service),
    )

    # Handlers auto-registered with dispatcher
    await consumer.start()
    # --- end of the example ---

    await rabbitmq_consumer.publish("orders", OrderCreated(customer_id="cust-456"))
    await rabbitmq_consumer.drain()
    await consumer.stop()
    assert handled() == [
        ("SendEmailHandler", "OrderCreated"),
        ("UpdateProjectionHandler", "OrderCreated"),
    ]


async def test_handler_classes_are_built_by_the_handler_factory() -> None:
    """The same example with classes registered: the factory injects the email service."""
    fresh_journal()
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    broker = InMemoryBroker()
    email_service = EmailService()
    handler_registry = HandlerRegistry()
    handler_registry.register_event_handler(OrderCreated, SendEmailHandler)
    consumer = BaseEventConsumer(
        broker=broker,
        topics=["orders"],
        handler_registry=handler_registry,
        handler_factory=lambda cls: cls(email_service=email_service),
    )
    await consumer.start()
    await broker.publish("orders", OrderCreated(aggregate_id="order-1", customer_id="cust-9"))
    await broker.drain()
    await consumer.stop()
    assert journal.emails == ["cust-9: order order-1 received"]


async def test_full_integration_example_starts_runs_in_background_and_stops() -> None:
    fresh_journal()
    kafka_consumer = InMemoryBroker()
    # A message already waiting in the service's durable queue when the consumer starts.
    kafka_consumer.declare_queue("order-service-queue", ["order-events"])
    waiting = OrderCreated(aggregate_id="order-1", customer_id="cust-1")
    await kafka_consumer.publish("order-events", waiting)

    # --- spec: BaseEventConsumer / Full Integration Example ---
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
    from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
    from cqrs_ddd_core.domain.event_registry import EventTypeRegistry

    # Setup
    registry = EventTypeRegistry()
    registry.register("OrderCreated", OrderCreated)

    dispatcher = EventDispatcher()
    dispatcher.register(OrderCreated, SendEmailHandler())
    dispatcher.register(OrderCreated, UpdateProjectionHandler())

    # Create consumer
    consumer = BaseEventConsumer(
        broker=kafka_consumer,
        topics=["order-events"],
        dispatcher=dispatcher,
        registry=registry,
        queue_name="order-service-queue",
        exchange_name="order-exchange",
    )

    # Start consuming (blocks)
    await consumer.start()

    # Or run in background
    task = asyncio.create_task(consumer.start())

    # Stop gracefully
    await consumer.stop()
    # --- end of the example ---

    await asyncio.wait_for(task, timeout=5)
    handled_or_waiting = len(journal.events) // 2 + kafka_consumer.queue_depth(
        "order-service-queue"
    )
    assert handled_or_waiting == 1, "the waiting message was handled or is still queued"
    await consumer.start()  # a stopped consumer can start again
    await kafka_consumer.drain()
    await consumer.stop()
    assert handled() == [
        ("SendEmailHandler", "OrderCreated"),
        ("UpdateProjectionHandler", "OrderCreated"),
    ]
    assert kafka_consumer.dead_letters() == []


async def test_with_rabbitmq_style_topics() -> None:
    fresh_journal()
    rabbitmq_consumer = InMemoryBroker()
    event_registry = EventTypeRegistry()
    event_registry.register("OrderCreated", OrderCreated)
    event_registry.register("OrderConfirmed", OrderConfirmed)
    event_dispatcher = recording_dispatcher()

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

    await rabbitmq_consumer.publish("orders.created", OrderCreated(customer_id="cust-1"))
    await rabbitmq_consumer.publish("orders.confirmed", OrderConfirmed())
    await rabbitmq_consumer.drain()
    await consumer.stop()
    assert sorted(handled()) == [
        ("UpdateProjectionHandler", "OrderConfirmed"),
        ("UpdateProjectionHandler", "OrderCreated"),
    ]


async def test_with_kafka_style_topics_and_a_handler_registry() -> None:
    fresh_journal()
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    kafka_consumer = InMemoryBroker()
    event_registry = EventTypeRegistry()
    event_registry.register("OrderCreated", OrderCreated)
    handler_registry = HandlerRegistry()
    handler_registry.register_event_handler(OrderCreated, UpdateProjectionHandler())

    # --- spec: BaseEventConsumer / With Kafka ---
    from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer

    consumer = BaseEventConsumer(
        broker=kafka_consumer,
        topics=["order-events", "payment-events"],
        registry=event_registry,
        handler_registry=handler_registry,
    )

    await consumer.start()
    # --- end of the example ---

    await kafka_consumer.publish("order-events", OrderCreated(customer_id="cust-1"))
    await kafka_consumer.drain()
    await consumer.stop()
    assert handled() == [("UpdateProjectionHandler", "OrderCreated")]
