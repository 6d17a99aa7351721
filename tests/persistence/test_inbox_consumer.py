"""A consumer with a SQL inbox applies each message once, wherever it checks the inbox.

`BaseEventConsumer` checks "processed already?" before the message's transaction by default,
and as that transaction's first read with ``check_inbox_inside=True`` (a service whose locks
are the transaction's own). Both must acknowledge duplicates without effect and keep a copy
racing past the check out - on SQLite, where the second transaction waits for the first's
write lock, and on PostgreSQL, where both read "not processed" and the inbox insert (or the
version check) stops the second.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from tests.warehouse.domain import Shelf
from tests.warehouse.sql import WarehouseSqlUnitOfWork

CHECKS = [pytest.param(False, id="check-before"), pytest.param(True, id="check-inside")]


class ShelfFilled(DomainEvent):
    shelf_id: str
    quantity: int


class FillShelf:
    """The effect: the shelf gains the quantity (a read, then a versioned write)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    async def handle(self, event: ShelfFilled) -> None:
        self.calls += 1
        uow: WarehouseSqlUnitOfWork = get_current_uow()
        shelf = await uow.shelves.get(event.shelf_id)
        await asyncio.sleep(self.delay)  # both copies inside their transaction at once
        shelf.put(event.quantity)
        await uow.shelves.save(shelf)


def consumer(
    broker: InMemoryBroker,
    engine: AsyncEngine,
    handler: FillShelf,
    *,
    check_inbox_inside: bool,
) -> BaseEventConsumer:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ShelfFilled, handler)
    registry = EventTypeRegistry()
    registry.register(ShelfFilled.type_name(), ShelfFilled)
    return BaseEventConsumer(
        broker,
        ["ShelfFilled"],
        dispatcher,
        registry,
        queue_name="shelving",
        inbox=SqlAlchemyInboxStorage(engine),
        uow_factory=lambda: WarehouseSqlUnitOfWork(sessions),
        check_inbox_inside=check_inbox_inside,
    )


async def shelf_quantity(engine: AsyncEngine, shelf_id: str) -> int:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with WarehouseSqlUnitOfWork(sessions) as uow:
        return (await uow.shelves.get(shelf_id)).quantity


async def open_shelf(engine: AsyncEngine, shelf_id: str) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with WarehouseSqlUnitOfWork(sessions) as uow:
        await uow.shelves.add(Shelf(shelf_id))
        await uow.commit()


@pytest.mark.parametrize("check_inbox_inside", CHECKS)
async def test_a_message_delivered_three_times_has_its_effect_once(
    engine: AsyncEngine, check_inbox_inside: bool
) -> None:
    await open_shelf(engine, "s-1")
    broker = InMemoryBroker()
    shelving = consumer(broker, engine, FillShelf(), check_inbox_inside=check_inbox_inside)
    await shelving.start()
    event = ShelfFilled(shelf_id="s-1", quantity=4)

    for _ in range(3):
        await broker.publish("ShelfFilled", event)
    await broker.drain()
    await shelving.stop()
    await broker.stop()

    assert await shelf_quantity(engine, "s-1") == 4
    assert (shelving.processed, shelving.duplicates) == (1, 2)
    assert broker.dead_letters() == []


@pytest.mark.parametrize("check_inbox_inside", CHECKS)
async def test_two_copies_handled_by_two_workers_at_once_have_their_effect_once(
    engine: AsyncEngine, check_inbox_inside: bool
) -> None:
    await open_shelf(engine, "s-1")
    broker = InMemoryBroker(redelivery_delay=0.01)
    # Two workers on one queue, as two replicas would be: each takes one copy.
    handlers = [FillShelf(delay=0.05), FillShelf(delay=0.05)]
    workers = [
        consumer(broker, engine, handler, check_inbox_inside=check_inbox_inside)
        for handler in handlers
    ]
    for worker in workers:
        await worker.start()
    event = ShelfFilled(shelf_id="s-1", quantity=4)

    await asyncio.gather(broker.publish("ShelfFilled", event), broker.publish("ShelfFilled", event))
    await broker.drain()
    for worker in workers:
        await worker.stop()
    await broker.stop()

    assert await shelf_quantity(engine, "s-1") == 4, "the second copy's effect was kept out"
    assert sum(worker.processed for worker in workers) == 1
    assert sum(worker.duplicates for worker in workers) >= 1
    assert broker.dead_letters() == []
