"""docs/reference/locking.md: the examples that lock with ``redis_lock``, on real Redis.

The other example files fill ``redis_lock`` in with a local strategy; here it is what its name
says: ``RedisLockStrategy.from_url(REDIS_URL)`` (``redis://127.0.0.1:6379/0`` unless
``REDIS_URL`` / ``TEST_REDIS_URL`` say otherwise), under this run's key prefix. The examples'
other undefined names are filled in as in test_critical_section_examples.py and
test_outbox_examples.py: in-memory brokers, outbox storage and unit of work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.cqrs.outbox.service import RELAY_LOCK, OutboxService
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.locking import LockInfo
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.messaging.support import eventually
from tests.spec_examples.spec_domain import (
    CreateOrderCommand,
    CreateOrderHandler,
    OrderCreated,
    OrderItem,
    OrderUnitOfWork,
)

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_lock(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisLockStrategy]:
    """The spec's ``redis_lock``: a `RedisLockStrategy` from the URL, under the run's prefix."""
    strategy = RedisLockStrategy.from_url(redis_url, prefix=f"{redis_prefix}spec:")
    try:
        yield strategy
    finally:
        await strategy.aclose()


def broker_with_queue() -> InMemoryBroker:
    broker = InMemoryBroker()
    broker.declare_queue("downstream", ["#"])
    return broker


async def test_with_custom_timeout_and_ttl_on_redis(redis_lock: RedisLockStrategy) -> None:
    held: list[LockInfo] = []

    async def process_order(order_id: str) -> None:
        held.extend(await redis_lock.get_active_locks())

    # --- spec: CriticalSection / With Custom Timeout and TTL ---
    resources = [
        ResourceIdentifier("Order", "order-123"),
    ]

    async with CriticalSection(
        resources,
        lock_strategy=redis_lock,
        timeout=5.0,  # Wait up to 5s per lock
        ttl=60.0,  # Locks expire after 60s
    ) as section:
        await process_order("order-123")
    # --- end of the example ---

    [lock] = held
    assert (lock.resource, lock.holds) == (ResourceIdentifier("Order", "order-123"), 1)
    assert 55.0 < (lock.expires_at - datetime.now(UTC)).total_seconds() <= 60.0
    assert (section.timeout, section.ttl) == (5.0, 60.0)
    assert await redis_lock.get_active_locks() == []


async def test_a_second_process_waits_for_the_section_on_redis(
    redis_lock: RedisLockStrategy, redis_url: str, redis_prefix: str
) -> None:
    # What redis_lock is for: another process (another client, same keys) is kept out.
    other_process = RedisLockStrategy.from_url(redis_url, prefix=f"{redis_prefix}spec:")
    resources = [ResourceIdentifier("Order", "order-123")]
    order: list[str] = []

    async def enter(name: str, strategy: RedisLockStrategy) -> None:
        async with CriticalSection(resources, lock_strategy=strategy, timeout=5.0, ttl=60.0):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    try:
        first = asyncio.create_task(enter("first", redis_lock))
        await eventually(lambda: order == ["first in"], what="the first entered")
        await asyncio.gather(first, enter("second", other_process))
    finally:
        await other_process.aclose()

    assert order == ["first in", "first out", "second in", "second out"]


async def test_outbox_service_relays_under_a_redis_lock(
    redis_lock: RedisLockStrategy, capsys: Any
) -> None:
    outbox_storage = InMemoryOutboxStorage()
    kafka_publisher = broker_with_queue()
    events = [OrderCreated(customer_id=f"c-{i}") for i in range(3)]
    await outbox_storage.save([OutboxMessage.create("OrderCreated", e) for e in events])

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
    # --- end of the example ---

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
        *(e.event_id for e in events),
        later.event_id,
    ]
    assert (await outbox_storage.count_by_status())[OutboxStatus.PUBLISHED] == 4
    assert await redis_lock.get_active_locks() == []


async def test_outbox_service_waits_while_another_relay_holds_the_redis_lock(
    redis_lock: RedisLockStrategy,
) -> None:
    outbox_storage = InMemoryOutboxStorage()
    kafka_publisher = broker_with_queue()
    await outbox_storage.save(
        [OutboxMessage.create("OrderCreated", OrderCreated(customer_id="c-1"))]
    )
    service = OutboxService(
        storage=outbox_storage,
        publisher=kafka_publisher,
        lock_strategy=redis_lock,
        lock_timeout=0.1,
    )
    # Another relay (the same key: RELAY_LOCK) holds the relay lock right now.
    other = await redis_lock.acquire(RELAY_LOCK, timeout=1.0, ttl=30.0, session_id="relay-2")

    assert await service.process_batch() == 0  # its turn did not come within lock_timeout
    assert kafka_publisher.published == []

    await redis_lock.release(RELAY_LOCK, other)
    assert await service.process_batch() == 1


async def test_outbox_pattern_flow_with_a_redis_lock(redis_lock: RedisLockStrategy) -> None:
    store = InMemoryStore()
    db_outbox = InMemoryOutboxStorage()
    kafka_publisher = broker_with_queue()
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
    # --- end of the example ---

    try:
        await eventually(lambda: len(kafka_publisher.published) == 1, what="published")
    finally:
        await asyncio.wait_for(outbox.stop(), timeout=5)
    [envelope] = kafka_publisher.published
    assert envelope.payload["aggregate_id"] == response.result
    assert envelope.correlation_id == response.correlation_id
    assert await redis_lock.get_active_locks() == []
