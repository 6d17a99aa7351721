"""`BaseEventConsumer`: hydrate, dispatch, never acknowledge a failure, apply each message once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer, ConsumerStoppedError
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.cqrs.scope import get_current_session_id
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.messaging.support import ItemAdded


class StockHandler:
    """The effect: adds the quantity to a stock record, in the current unit of work."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0
        self.correlation_ids: list[str | None] = []

    async def handle(self, event: ItemAdded) -> None:
        self.calls += 1
        self.correlation_ids.append(get_correlation_id())
        uow: InMemoryUnitOfWork = get_current_uow()
        current = uow.get("stock", event.sku)
        await asyncio.sleep(self.delay)  # hold the transaction open across an await
        if current is None:
            uow.insert("stock", event.sku, event.quantity)
        else:
            uow.update("stock", event.sku, current[0] + event.quantity, current[1])


class LedgerHandler:
    """An effect that cannot conflict with itself: every delivery appends a row of its own.

    So when two copies both commit, nothing but the inbox can be what stopped the second.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    async def handle(self, event: ItemAdded) -> None:
        self.calls += 1
        uow: InMemoryUnitOfWork = get_current_uow()
        await asyncio.sleep(self.delay)  # hold the transaction open across an await
        uow.insert("ledger", str(uuid.uuid4()), event.quantity)


def stock(store: InMemoryStore, sku: str) -> int | None:
    record = store.committed("stock", sku)
    return None if record is None else int(record.value)


def registry_of(*types: type[DomainEvent]) -> EventTypeRegistry:
    registry = EventTypeRegistry()
    for event_type in types:
        registry.register(event_type.type_name(), event_type)
    return registry


async def inbox_consumer(
    broker: InMemoryBroker, store: InMemoryStore, handler: Any, **options: Any
) -> BaseEventConsumer:
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, handler)
    consumer = BaseEventConsumer(
        broker=broker,
        topics=["ItemAdded"],
        dispatcher=dispatcher,
        registry=registry_of(ItemAdded),
        queue_name="inventory",
        inbox=InMemoryInboxStorage(store),
        uow_factory=lambda: InMemoryUnitOfWork(store),
        **options,
    )
    await consumer.start()
    return consumer


async def test_a_message_is_hydrated_into_the_registered_class_and_dispatched() -> None:
    broker = InMemoryBroker()
    received: list[DomainEvent] = []

    async def record(event: DomainEvent) -> None:
        received.append(event)

    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, record)
    consumer = BaseEventConsumer(
        broker, ["ItemAdded"], dispatcher, registry_of(ItemAdded), queue_name="q"
    )
    await consumer.start()
    event = ItemAdded(sku="a", quantity=3, correlation_id="story-7")

    await broker.publish("ItemAdded", event)
    await broker.drain()
    await consumer.stop()

    assert received == [event]
    assert isinstance(received[0], ItemAdded)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"sku": "a"}, "poison message: message has no 'event_type'"),
        (
            {"event_type": "Unheard", "sku": "a"},
            "poison message: unknown event type 'Unheard' for consumer 'q': register it in "
            "the consumer's EventTypeRegistry",
        ),
        (
            {"event_type": "ItemAdded", "quantity": "many"},
            "poison message: Invalid payload for 'ItemAdded': bad field(s) sku, quantity",
        ),
    ],
)
async def test_a_message_that_can_never_be_handled_is_dead_lettered_at_once_with_its_reason(
    payload: dict[str, Any], reason: str
) -> None:
    broker = InMemoryBroker(max_deliveries=5)
    handler = StockHandler()
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, handler)
    consumer = BaseEventConsumer(
        broker,
        [payload.get("event_type", "ItemAdded")],
        dispatcher,
        registry_of(ItemAdded),
        queue_name="q",
    )
    await consumer.start()

    await broker.publish(payload.get("event_type", "ItemAdded"), payload)
    await broker.drain()
    await consumer.stop()

    [dead] = broker.dead_letters("q")
    assert dead.reason == reason
    assert dead.deliveries == 1
    assert handler.calls == 0


async def test_a_failing_handler_is_not_acknowledged_and_its_effect_is_rolled_back() -> None:
    broker = InMemoryBroker(max_deliveries=3)
    store = InMemoryStore()

    class FailingAfterWriting(StockHandler):
        async def handle(self, event: ItemAdded) -> None:
            await super().handle(event)
            raise RuntimeError("the warehouse is closed")

    handler = FailingAfterWriting()
    consumer = await inbox_consumer(broker, store, handler)

    event = ItemAdded(sku="a")
    await broker.publish("ItemAdded", event)
    await broker.drain()
    await consumer.stop()

    assert handler.calls == 3
    [dead] = broker.dead_letters()
    assert dead.reason == "handler failed 3 times; last: RuntimeError: the warehouse is closed"
    assert stock(store, "a") is None, "no effect of a failed delivery was kept"
    assert not await InMemoryInboxStorage(store).has_processed(event.event_id, "inventory")


async def test_a_duplicate_delivery_has_its_effect_once() -> None:
    broker = InMemoryBroker()
    store = InMemoryStore()
    handler = StockHandler()
    consumer = await inbox_consumer(broker, store, handler)
    event = ItemAdded(sku="a", quantity=2)

    for _ in range(3):  # the relay published it three times
        await broker.publish("ItemAdded", event)
    await broker.drain()
    await consumer.stop()

    assert stock(store, "a") == 2
    assert (consumer.processed, consumer.duplicates) == (1, 2)
    assert broker.delivered_count("inventory") == 3, "duplicates are acknowledged"
    assert InMemoryInboxStorage(store).processed_count("inventory") == 1


async def test_two_copies_handled_at_the_same_time_have_their_effect_once() -> None:
    broker = InMemoryBroker(redelivery_delay=0.01)
    store = InMemoryStore()
    handler = LedgerHandler(delay=0.05)  # both copies are inside their transaction at once
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, handler)
    consumer = BaseEventConsumer(
        broker,
        ["ItemAdded"],
        dispatcher,
        registry_of(ItemAdded),
        queue_name="inventory",
        inbox=InMemoryInboxStorage(store),
        uow_factory=lambda: InMemoryUnitOfWork(store),
    )
    await consumer.start()
    await consumer.start()  # a second start does not subscribe twice
    await broker.subscribe("ItemAdded", consumer.handle, queue_name="inventory")  # 2 members
    event = ItemAdded(sku="a", quantity=5)

    await broker.publish("ItemAdded", event)
    await broker.publish("ItemAdded", event)
    await broker.drain()
    await broker.stop()

    assert handler.calls == 2, "both copies ran concurrently"
    assert len(store.keys("ledger")) == 1, "the inbox kept the second copy's effect out"
    assert consumer.processed == 1
    assert consumer.duplicates == 1
    assert broker.dead_letters() == []


class Reserve(Command[None]):
    sku: str
    quantity: int


class ReserveHandler:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def handle(self, command: Reserve) -> CommandResponse[None]:
        uow: InMemoryUnitOfWork = get_current_uow()
        uow.insert("reservations", command.sku, command.quantity)
        if self.fail:
            raise RuntimeError("reservation refused")
        return CommandResponse(result=None)


@pytest.mark.parametrize("command_fails", [False, True])
async def test_commands_sent_by_a_handler_commit_with_the_inbox_record_or_not_at_all(
    command_fails: bool,
) -> None:
    store = InMemoryStore()
    handlers = HandlerRegistry()
    handlers.register_command_handler(Reserve, ReserveHandler(fail=command_fails))
    mediator = Mediator(handlers, lambda: InMemoryUnitOfWork(store))

    class ReserveOnItemAdded:
        async def handle(self, event: ItemAdded) -> None:
            await mediator.send(Reserve(sku=event.sku, quantity=event.quantity))

    broker = InMemoryBroker(max_deliveries=2)
    consumer = await inbox_consumer(broker, store, ReserveOnItemAdded())
    event = ItemAdded(sku="a", quantity=4, correlation_id="story-9")

    await broker.publish("ItemAdded", event)
    await broker.drain()
    await consumer.stop()

    processed = await InMemoryInboxStorage(store).has_processed(event.event_id, "inventory")
    reservation = store.committed("reservations", "a")
    if command_fails:
        assert reservation is None
        assert not processed
        assert len(broker.dead_letters()) == 1
    else:
        assert reservation is not None
        assert reservation.value == 4
        assert processed


async def test_the_story_continues_under_the_events_correlation_id() -> None:
    broker = InMemoryBroker()
    store = InMemoryStore()
    handler = StockHandler()
    consumer = await inbox_consumer(broker, store, handler)

    await broker.publish("ItemAdded", ItemAdded(sku="a", correlation_id="story-42"))
    await broker.drain()
    await consumer.stop()

    assert handler.correlation_ids == ["story-42"]


class Mailer:
    def __init__(self) -> None:
        self.sent: list[str] = []


class EmailOnItemAdded:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    async def handle(self, event: ItemAdded) -> None:
        self.mailer.sent.append(event.sku)


async def test_handlers_of_a_handler_registry_are_wired_and_built_by_the_factory() -> None:
    broker = InMemoryBroker()
    mailer = Mailer()
    handler_registry = HandlerRegistry()
    handler_registry.register_event_handler(ItemAdded, EmailOnItemAdded)  # a class
    consumer = BaseEventConsumer(
        broker=broker,
        topics=["ItemAdded"],
        handler_registry=handler_registry,
        handler_factory=lambda cls: cls(mailer=mailer),
    )
    await consumer.start()

    await broker.publish("ItemAdded", ItemAdded(sku="a"))
    await broker.drain()
    await consumer.stop()

    assert mailer.sent == ["a"]
    assert consumer.registry.has("ItemAdded"), "the event types were learned from the handlers"


async def test_a_stopped_consumer_takes_no_more_messages_and_loses_none() -> None:
    broker = InMemoryBroker()
    store = InMemoryStore()
    handler = StockHandler()
    consumer = await inbox_consumer(broker, store, handler)
    await consumer.stop()

    await broker.publish("ItemAdded", ItemAdded(sku="a"))
    await asyncio.sleep(0.05)
    assert handler.calls == 0
    assert broker.queue_depth("inventory") == 1, "the message waits in the queue"
    with pytest.raises(ConsumerStoppedError):
        await consumer.handle(ItemAdded(sku="b").to_payload())

    await consumer.start()
    await broker.drain()
    await consumer.stop()
    assert stock(store, "a") == 1


def test_an_inbox_without_a_unit_of_work_is_refused() -> None:
    with pytest.raises(ValueError, match="needs uow_factory"):
        BaseEventConsumer(InMemoryBroker(), ["X"], inbox=InMemoryInboxStorage())


async def test_two_deliveries_of_one_message_do_not_share_each_others_locks() -> None:
    """A redelivery can overlap the first delivery (a replica that stalled, a lost ack): each
    handling is a lock session of its own, so the second waits for the first's locks instead
    of re-entering them as if it were the same command."""
    store = InMemoryStore()
    locks = InMemoryLockStrategy()
    inside: list[str] = []
    overlaps: list[bool] = []

    async def take_the_shelf(event: ItemAdded) -> None:
        resource = ResourceIdentifier("Shelf", event.sku)
        async with CriticalSection(
            [resource], locks, timeout=5.0, ttl=30.0, session_id=get_current_session_id()
        ):
            overlaps.append(bool(inside))
            inside.append(event.event_id)
            await asyncio.sleep(0.05)  # hold the lock across an await
            inside.remove(event.event_id)

    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, take_the_shelf)
    consumer = BaseEventConsumer(
        InMemoryBroker(),
        ["ItemAdded"],
        dispatcher,
        registry_of(ItemAdded),
        queue_name="q",
        uow_factory=lambda: InMemoryUnitOfWork(store),
    )
    payload = ItemAdded(sku="a", quantity=1).to_payload()

    await asyncio.gather(consumer.handle(dict(payload)), consumer.handle(dict(payload)))

    assert overlaps == [False, False]
