"""The world of the messaging features: the warehouse and the storefront, talking through a broker.

The warehouse registers shipments with the real `Mediator`, `OutboxMiddleware`,
`InMemoryUnitOfWork` and `BufferedOutbox`; the relay publishes to an `InMemoryBroker`; the
storefront consumes with a `BaseEventConsumer` that hydrates into the storefront's *own* event
class and records each message in its `InMemoryInboxStorage` (the two contexts are in
`tests/warehouse/messaging.py`). Nothing is mocked: faults are injected into the broker and
the handlers. Background tasks live on the scenario's event loop, so they keep running between
steps; "eventually" steps poll with a deadline.

Only the steps several messaging features use are here (outbox, inbox, consumers, dead
letters, routing); each feature's own steps are in its test module.

The words of the features: the warehouse's news has names (`NEWS`: "the announcement" of a
shipment is the ``ShipmentAnnounced`` event, published on the topic of that name); "in the
books" is committed; "a tracking number" a correlation id, "the reference of the request"
its causation id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from tests.conftest import Run
from tests.messaging.support import OffsetClock, RecordingPublisher, eventually
from tests.warehouse.messaging import (
    ListStockOnShipment,
    Outcome,
    RegisterShipmentCommand,
    RegisterShipmentHandler,
    ShipmentAnnounced,
    ShipmentNoted,
    StorefrontShipment,
)

NEWS = {
    "announcement": "ShipmentAnnounced",
    "announcements": "ShipmentAnnounced",
    "thank-you note": "SupplierThanked",
    "log note": "ShipmentNoted",
    "stock count": "StockCounted",
}
"""The scenarios' words for the warehouse's news -> the event's name, which is its topic."""


@dataclass
class Messaging:
    run: Run
    broker: InMemoryBroker = field(
        default_factory=lambda: InMemoryBroker(max_deliveries=3, redelivery_delay=0.005)
    )
    warehouse_store: InMemoryStore = field(default_factory=InMemoryStore)
    outbox_clock: OffsetClock = field(default_factory=OffsetClock)
    outbox_storage: InMemoryOutboxStorage = field(init=False)
    outboxes: list[BufferedOutbox] = field(default_factory=list)
    mediator: Mediator | None = None
    notifications: RecordingPublisher = field(default_factory=RecordingPublisher)
    read_model: list[str] = field(default_factory=list)
    responses: dict[str, CommandResponse[str]] = field(default_factory=dict)
    storefront_store: InMemoryStore = field(default_factory=InMemoryStore)
    listing: ListStockOnShipment = field(default_factory=ListStockOnShipment)
    consumers: list[BaseEventConsumer] = field(default_factory=list)
    replicas: list[ListStockOnShipment] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[ShipmentAnnounced] = field(default_factory=list)
    router: TopicRoutingPublisher | None = None
    error: BaseException | None = None
    crashed: asyncio.Task[int] | None = None
    marks: list[int] = field(default_factory=list)
    """How many rows each ``mark_published`` call marked, when a scenario counts them."""

    def __post_init__(self) -> None:
        self.outbox_storage = InMemoryOutboxStorage(clock=self.outbox_clock)

    @property
    def inbox(self) -> InMemoryInboxStorage:
        return InMemoryInboxStorage(self.storefront_store)

    def listings_of(self, shipment_id: str) -> list[dict[str, Any]]:
        rows = self.storefront_store.collections.get("listings", {}).values()
        return [row.value for row in rows if row.value["shipment_id"] == shipment_id]

    def published(self, topic: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.broker.published if e.topic == topic]


@pytest.fixture
def messaging(run: Run) -> Any:
    world = Messaging(run)
    # Every publish must reach a queue (the broker is mandatory): this one keeps them all.
    world.broker.declare_queue("archive", ["#"])
    yield world

    async def shut_down() -> None:
        for consumer in world.consumers:
            await consumer.stop()
        for outbox in world.outboxes:
            await outbox.stop()
        if world.crashed is not None:
            world.crashed.cancel()
        await world.broker.stop()

    run(asyncio.wait_for, shut_down(), 10)


def build_warehouse(
    world: Messaging,
    outbox_publisher: Any | None,
    *,
    routed: bool,
    event_handlers: Sequence[tuple[type[DomainEvent], Any]] = (),
) -> None:
    """The warehouse's mediator; with ``outbox_publisher``, an `OutboxMiddleware` over it."""
    handlers = HandlerRegistry()
    handlers.register_command_handler(RegisterShipmentCommand, RegisterShipmentHandler(routed))

    async def note(event: ShipmentNoted) -> None:
        world.read_model.append(event.shipment_id)

    handlers.register_event_handler(ShipmentNoted, note)
    for event_type, handler in event_handlers:
        handlers.register_event_handler(event_type, handler)
    middleware = MiddlewareRegistry()
    if outbox_publisher is not None:
        middleware.register(OutboxMiddleware(outbox_publisher), priority=20)
    world.mediator = Mediator(
        handlers, lambda: InMemoryUnitOfWork(world.warehouse_store), middleware_registry=middleware
    )


def new_outbox(world: Messaging, storage: InMemoryOutboxStorage, broker: Any) -> BufferedOutbox:
    outbox = BufferedOutbox(
        storage, broker, poll_interval=0.05, wait_delay=0.005, max_delay=0.05, max_retries=1000
    )
    world.outboxes.append(outbox)
    world.run(outbox.start)
    return outbox


def new_storefront_consumer(world: Messaging, handler: ListStockOnShipment) -> BaseEventConsumer:
    registry = EventTypeRegistry()
    registry.register("ShipmentAnnounced", StorefrontShipment)
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(StorefrontShipment, handler)
    consumer = BaseEventConsumer(
        broker=world.broker,
        topics=["ShipmentAnnounced", "ShipmentTeleported"],
        dispatcher=dispatcher,
        registry=registry,
        queue_name="storefront",
        inbox=InMemoryInboxStorage(world.storefront_store),
        consumer_name="storefront",
        uow_factory=lambda: InMemoryUnitOfWork(world.storefront_store),
    )
    world.consumers.append(consumer)
    world.run(consumer.start)
    return consumer


def shipment_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def register(world: Messaging, shipment_id: str, outcome: Outcome = "commit") -> None:
    assert world.mediator is not None, "no warehouse yet"
    command = RegisterShipmentCommand(shipment_id=shipment_id, outcome=outcome)
    try:
        world.responses[shipment_id] = world.run(world.mediator.send, command)
    except RuntimeError as exc:
        world.error = exc


def wait_until(world: Messaging, condition: Any, what: str, timeout: float = 5.0) -> None:
    world.run(eventually, condition, timeout, what)


# --- Given ---------------------------------------------------------------------------------


@given("a warehouse whose outbox relays to the broker")
def warehouse_with_outbox(messaging: Messaging) -> None:
    outbox = new_outbox(messaging, messaging.outbox_storage, messaging.broker)
    build_warehouse(messaging, outbox, routed=False)  # docs/reference/outbox.md


@given("a storefront that lists each announced shipment for sale, keeping an inbox")
def storefront_consumer(messaging: Messaging) -> None:
    new_storefront_consumer(messaging, messaging.listing)


@given("the broker is down")
def broker_down(messaging: Messaging) -> None:
    messaging.broker.take_down()


@given(parsers.parse('listing always fails with "{reason}"'))
def listing_fails(messaging: Messaging, reason: str) -> None:
    messaging.listing.failure = reason


# --- When ----------------------------------------------------------------------------------


@when(parsers.parse('the warehouse registers shipment "{shipment_id}"'))
def registers_shipment(messaging: Messaging, shipment_id: str) -> None:
    register(messaging, shipment_id)


@when(
    parsers.parse(
        'registering shipment "{shipment_id}" fails after the clerk noted the shipment down'
    )
)
def registering_fails(messaging: Messaging, shipment_id: str) -> None:
    register(messaging, shipment_id, "raise")
    assert messaging.error is not None


@when(parsers.parse('the broker delivers the {news} of shipment "{shipment_id}"'))
def delivers_news_once(messaging: Messaging, news: str, shipment_id: str) -> None:
    delivers_once(messaging, NEWS[news], shipment_id)


def delivers_once(messaging: Messaging, topic: str, shipment_id: str) -> None:
    event = ShipmentAnnounced(
        shipment_id=shipment_id,
        supplier="acme",
        quantity=100,
        correlation_id=f"story-{shipment_id}",
    )
    messaging.events = [event]
    messaging.run(messaging.broker.publish, topic, event)
    messaging.run(messaging.broker.drain)


# --- Then ----------------------------------------------------------------------------------


@then(
    parsers.parse(
        'the broker eventually receives the {news} of shipment "{shipment_id}" exactly once'
    )
)
def broker_receives_news_once(messaging: Messaging, news: str, shipment_id: str) -> None:
    broker_receives_once(messaging, NEWS[news], shipment_id)


@then(
    parsers.parse(
        'the broker eventually receives "{topic}" of shipment "{shipment_id}" exactly once'
    )
)
def broker_receives_once(messaging: Messaging, topic: str, shipment_id: str) -> None:
    def arrived() -> bool:
        return any(p["shipment_id"] == shipment_id for p in messaging.published(topic))

    wait_until(messaging, arrived, f"{topic} of {shipment_id} reached the broker")
    messaging.run(asyncio.sleep, 0.1)  # a second copy would have had time to follow
    copies = [p for p in messaging.published(topic) if p["shipment_id"] == shipment_id]
    assert len(copies) == 1, f"{len(copies)} copies of {topic} of {shipment_id}"


@then("the broker receives nothing")
def broker_receives_nothing(messaging: Messaging) -> None:
    messaging.run(asyncio.sleep, 0.1)  # the relay had time to run
    assert messaging.broker.published == []
