"""docs/reference/outbox.md: every Outbox and Outbox Pattern Flow example, run as written.

Only the names the examples leave undefined are filled in: every broker (``rabbitmq_publisher``,
``kafka``, ``kafka_publisher``) is an `InMemoryBroker`, ``redis_lock`` an `InMemoryLockStrategy`,
``db_outbox`` / ``outbox_storage`` an `InMemoryOutboxStorage`, and the flow's
``SqlAlchemyUnitOfWork(session_factory)`` is played by the in-memory unit of work of
tests/spec_examples/spec_domain.py (the SQL flow runs in features/core/unit_of_work.feature).
The ``...`` placeholders of ``CreateOrderCommand(...)`` become a customer id.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.messaging.support import eventually
from tests.spec_examples.spec_domain import (
    CreateOrderCommand,
    CreateOrderHandler,
    OrderCreated,
    OrderItem,
    OrderUnitOfWork,
)


def broker_with_queue() -> InMemoryBroker:
    """A broker; its queue stands for the consumers somewhere downstream."""
    broker = InMemoryBroker()
    broker.declare_queue("downstream", ["#"])
    return broker


async def test_basic_setup_stores_the_event_and_the_worker_publishes_it() -> None:
    rabbitmq_publisher = broker_with_queue()
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")

    # --- spec: BufferedOutbox / Basic Setup ---
    from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
    from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
    from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox

    # Create outbox
    outbox = BufferedOutbox(
        storage=InMemoryOutboxStorage(),
        broker=rabbitmq_publisher,  # Your message broker
        lock_strategy=InMemoryLockStrategy(),
        batch_size=50,
        max_retries=5,
    )

    # Start background worker
    await outbox.start()

    # Publish event (saved to DB, triggers immediate processing)
    await outbox.publish("OrderCreated", event)
    # --- end of the example ---

    try:
        await eventually(lambda: len(rabbitmq_publisher.published) == 1, what="relayed")
    finally:
        await asyncio.wait_for(outbox.stop(), timeout=5)
    [envelope] = rabbitmq_publisher.published
    assert envelope.topic == "OrderCreated"
    assert envelope.message_id == event.event_id
    assert envelope.payload == event.to_payload()


async def test_integration_with_mediator_writes_the_events_in_the_command_transaction() -> None:
    store = InMemoryStore()
    db_outbox = InMemoryOutboxStorage()
    kafka = broker_with_queue()
    handler_registry = HandlerRegistry()
    handler_registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())

    def uow_factory() -> OrderUnitOfWork:
        return OrderUnitOfWork(store)

    # --- spec: BufferedOutbox / Integration with Mediator ---
    from cqrs_ddd_core.cqrs.mediator import Mediator
    from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
    from cqrs_ddd_core.middleware.outbox import OutboxMiddleware

    # Create outbox
    outbox = BufferedOutbox(storage=db_outbox, broker=kafka)

    # Register middleware
    middleware_registry = MiddlewareRegistry()
    middleware_registry.register(OutboxMiddleware(outbox), priority=20)

    # Mediator automatically saves events to outbox
    mediator = Mediator(
        registry=handler_registry,
        uow_factory=uow_factory,
        middleware_registry=middleware_registry,
    )

    # Command handler returns events → middleware saves to outbox
    response = await mediator.send(CreateOrderCommand(customer_id="cust-123"))
    # --- end of the example ---

    order_id = response.result
    assert store.committed("orders", order_id) is not None
    [row] = await db_outbox.claim_batch(10, lease_seconds=30)
    assert row.topic == "OrderCreated"
    assert row.payload["aggregate_id"] == order_id
    assert row.correlation_id == response.correlation_id
    assert kafka.published == [], "the worker was not started: the row waits in the outbox"


async def test_configuration_options_are_taken_as_given() -> None:
    storage = InMemoryOutboxStorage()
    broker = broker_with_queue()
    lock_strategy = InMemoryLockStrategy()

    # --- spec: BufferedOutbox / Configuration Options ---
    from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox

    outbox = BufferedOutbox(
        storage=storage,
        broker=broker,
        lock_strategy=lock_strategy,
        batch_size=100,  # Messages per batch
        max_retries=10,  # Max retry attempts
        poll_interval=5.0,  # Seconds between polls
        wait_delay=0.1,  # Initial wait delay
        max_delay=2.0,  # Max exponential backoff
    )
    # --- end of the example ---

    assert (outbox.batch_size, outbox.poll_interval, outbox.wait_delay, outbox.max_delay) == (
        100,
        5.0,
        0.1,
        2.0,
    )
    assert outbox.service.max_retries == 10
    assert outbox.service.lock_strategy is lock_strategy


async def test_outbox_service_processes_a_batch_and_can_run_continuously(
    capsys: Any,
) -> None:
    outbox_storage = InMemoryOutboxStorage()
    kafka_publisher = broker_with_queue()
    redis_lock = InMemoryLockStrategy()
    first = [OrderCreated(customer_id=f"c-{i}") for i in range(3)]
    await outbox_storage.save([OutboxMessage.create("OrderCreated", e) for e in first])

    # --- spec: OutboxService / Usage Example (first part) ---
    from cqrs_ddd_core.cqrs.outbox.service import OutboxService

    # Create service
    service = OutboxService(
        storage=outbox_storage,
        publisher=kafka_publisher,
        lock_strategy=redis_lock,
        max_retries=5,
    )

    # Process single batch
    count = await service.process_batch(batch_size=50)
    print(f"Published {count} messages")
    # --- end of the first part ---

    assert capsys.readouterr().out == "Published 3 messages\n"
    later = OrderCreated(customer_id="c-later")
    await outbox_storage.save([OutboxMessage.create("OrderCreated", later)])

    async def run_continuously() -> None:
        # --- spec: OutboxService / Usage Example ("Or run continuously") ---
        while True:
            await service.process_batch()
            await asyncio.sleep(10)
        # --- end of the example ---

    loop = asyncio.create_task(run_continuously())
    try:
        await eventually(lambda: len(kafka_publisher.published) == 4, what="the loop relayed")
    finally:
        loop.cancel()
    assert [e.message_id for e in kafka_publisher.published] == [
        *(e.event_id for e in first),
        later.event_id,
    ]
    assert (await outbox_storage.count_by_status())[OutboxStatus.PUBLISHED] == 4
    assert await redis_lock.get_active_locks() == []


async def test_outbox_pattern_flow_from_command_to_broker() -> None:
    store = InMemoryStore()
    db_outbox = InMemoryOutboxStorage()
    kafka_publisher = broker_with_queue()
    redis_lock = InMemoryLockStrategy()
    handlers = HandlerRegistry()
    handlers.register_command_handler(CreateOrderCommand, CreateOrderHandler())
    session_factory = store

    def SqlAlchemyUnitOfWork(session_factory: InMemoryStore) -> OrderUnitOfWork:
        return OrderUnitOfWork(session_factory)

    # --- spec: Outbox Pattern Flow / Example Implementation ---
    from cqrs_ddd_core.cqrs.mediator import Mediator
    from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
    from cqrs_ddd_core.middleware.outbox import OutboxMiddleware

    # Setup outbox
    outbox = BufferedOutbox(
        storage=db_outbox,
        broker=kafka_publisher,
        lock_strategy=redis_lock,
    )
    await outbox.start()

    # Setup mediator with outbox middleware
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(outbox), priority=20)

    mediator = Mediator(
        registry=handlers,
        uow_factory=lambda: SqlAlchemyUnitOfWork(session_factory),
        middleware_registry=middleware,
    )

    # Send command
    command = CreateOrderCommand(
        customer_id="cust-123", items=[OrderItem(product_id="p-1", quantity=2)]
    )
    response = await mediator.send(command)

    # Events automatically:
    # 1. Saved to outbox (same transaction as order)
    # 2. Published to Kafka by background worker
    # 3. Consumed by other services
    # --- end of the example ---

    try:
        await eventually(lambda: len(kafka_publisher.published) == 1, what="published")
    finally:
        await asyncio.wait_for(outbox.stop(), timeout=5)
    [envelope] = kafka_publisher.published
    assert envelope.payload["aggregate_id"] == response.result
    assert envelope.payload["items"] == [{"product_id": "p-1", "quantity": 2}]
    assert envelope.correlation_id == response.correlation_id
    assert envelope.causation_id == command.command_id
    assert store.committed("orders", response.result) is not None
