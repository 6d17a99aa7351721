"""Steps of the messaging features: two small services talking through outbox, broker and inbox.

Ordering places orders with the real `Mediator`, `OutboxMiddleware`, `InMemoryUnitOfWork` and
`BufferedOutbox`; the relay publishes to an `InMemoryBroker`; billing consumes with a
`BaseEventConsumer` that hydrates into billing's *own* event class and records each message in
its `InMemoryInboxStorage`. Nothing is mocked: faults are injected into the broker and the
handlers. Background tasks live on the scenario's event loop, so they keep running between
steps; "eventually" steps poll with a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.cqrs.publishers.decorators import route_to
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.ids import new_id
from tests.conftest import Run
from tests.messaging.support import OffsetClock, RecordingPublisher, eventually

# --- ordering: commands and events ---------------------------------------------------------


@route_to("integration")
class OrderPlaced(DomainEvent):
    order_id: str
    customer_id: str
    total: int


@route_to("notifications")
class CustomerNotified(DomainEvent):
    order_id: str
    text: str


class OrderNoted(DomainEvent):
    """No route: only ordering's read model hears of it."""

    order_id: str


Outcome = Literal["commit", "raise", "refuse"]


class PlaceOrder(Command[str]):
    order_id: str
    customer_id: str = "c-1"
    total: int = 100
    outcome: Outcome = "commit"


@dataclass
class PlaceOrderHandler:
    routed: bool
    """With routing the order also emits a notification and a read-model-only event."""

    async def handle(self, command: PlaceOrder) -> CommandResponse[str]:
        uow: InMemoryUnitOfWork = get_current_uow()
        uow.insert("orders", command.order_id, {"total": command.total})
        if command.outcome == "raise":
            raise RuntimeError(f"placing {command.order_id} failed after writing it")
        events: list[DomainEvent] = [
            OrderPlaced(
                order_id=command.order_id, customer_id=command.customer_id, total=command.total
            ),
        ]
        if self.routed:
            events.append(CustomerNotified(order_id=command.order_id, text="thank you"))
            events.append(OrderNoted(order_id=command.order_id))
        return CommandResponse(
            result=command.order_id, events=events, success=command.outcome != "refuse"
        )


# --- billing: its own model of the event, and the invoicing handler --------------------------


class BillingOrderPlaced(DomainEvent):
    """Billing's own class for "OrderPlaced": it keeps only what billing needs."""

    order_id: str
    total: int


@dataclass
class InvoiceOnOrderPlaced:
    """The effect: a new invoice row per handled event - so a duplicate would show as two."""

    delay: float = 0.0
    failure: str | None = None
    calls: int = 0
    seen: list[DomainEvent] = field(default_factory=list)
    handled_by: Counter[int] = field(default_factory=Counter)
    replica: int = 0

    async def handle(self, event: BillingOrderPlaced) -> None:
        self.calls += 1
        self.seen.append(event)
        uow: InMemoryUnitOfWork = get_current_uow()
        await asyncio.sleep(self.delay)  # the transaction stays open across an await
        if self.failure is not None:
            raise RuntimeError(self.failure)
        invoice = {
            "order_id": event.order_id,
            "total": event.total,
            "correlation_id": get_correlation_id(),
        }
        uow.insert("invoices", new_id(), invoice)


# --- the world of one scenario -------------------------------------------------------------


@dataclass
class Messaging:
    run: Run
    broker: InMemoryBroker = field(
        default_factory=lambda: InMemoryBroker(max_deliveries=3, redelivery_delay=0.005)
    )
    ordering_store: InMemoryStore = field(default_factory=InMemoryStore)
    outbox_clock: OffsetClock = field(default_factory=OffsetClock)
    outbox_storage: InMemoryOutboxStorage = field(init=False)
    outboxes: list[BufferedOutbox] = field(default_factory=list)
    mediator: Mediator | None = None
    notifications: RecordingPublisher = field(default_factory=RecordingPublisher)
    read_model: list[str] = field(default_factory=list)
    responses: dict[str, CommandResponse[str]] = field(default_factory=dict)
    billing_store: InMemoryStore = field(default_factory=InMemoryStore)
    invoicing: InvoiceOnOrderPlaced = field(default_factory=InvoiceOnOrderPlaced)
    consumers: list[BaseEventConsumer] = field(default_factory=list)
    replicas: list[InvoiceOnOrderPlaced] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[OrderPlaced] = field(default_factory=list)
    router: TopicRoutingPublisher | None = None
    error: BaseException | None = None
    crashed: asyncio.Task[int] | None = None

    def __post_init__(self) -> None:
        self.outbox_storage = InMemoryOutboxStorage(clock=self.outbox_clock)

    @property
    def inbox(self) -> InMemoryInboxStorage:
        return InMemoryInboxStorage(self.billing_store)

    def invoices_of(self, order_id: str) -> list[dict[str, Any]]:
        rows = self.billing_store.collections.get("invoices", {}).values()
        return [row.value for row in rows if row.value["order_id"] == order_id]

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


def build_ordering(world: Messaging, outbox_publisher: Any, *, routed: bool) -> None:
    handlers = HandlerRegistry()
    handlers.register_command_handler(PlaceOrder, PlaceOrderHandler(routed))

    async def note(event: OrderNoted) -> None:
        world.read_model.append(event.order_id)

    handlers.register_event_handler(OrderNoted, note)
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(outbox_publisher), priority=20)
    world.mediator = Mediator(
        handlers, lambda: InMemoryUnitOfWork(world.ordering_store), middleware_registry=middleware
    )


def new_outbox(world: Messaging, storage: InMemoryOutboxStorage, broker: Any) -> BufferedOutbox:
    outbox = BufferedOutbox(
        storage, broker, poll_interval=0.05, wait_delay=0.005, max_delay=0.05, max_retries=1000
    )
    world.outboxes.append(outbox)
    world.run(outbox.start)
    return outbox


def new_billing_consumer(world: Messaging, handler: InvoiceOnOrderPlaced) -> BaseEventConsumer:
    registry = EventTypeRegistry()
    registry.register("OrderPlaced", BillingOrderPlaced)
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(BillingOrderPlaced, handler)
    consumer = BaseEventConsumer(
        broker=world.broker,
        topics=["OrderPlaced", "OrderTeleported"],
        dispatcher=dispatcher,
        registry=registry,
        queue_name="billing",
        inbox=InMemoryInboxStorage(world.billing_store),
        consumer_name="billing",
        uow_factory=lambda: InMemoryUnitOfWork(world.billing_store),
    )
    world.consumers.append(consumer)
    world.run(consumer.start)
    return consumer


def order_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def place(world: Messaging, order_id: str, outcome: Outcome = "commit") -> None:
    assert world.mediator is not None, "no ordering service yet"
    command = PlaceOrder(order_id=order_id, outcome=outcome)
    try:
        world.responses[order_id] = world.run(world.mediator.send, command)
    except RuntimeError as exc:
        world.error = exc


def wait_until(world: Messaging, condition: Any, what: str, timeout: float = 5.0) -> None:
    world.run(eventually, condition, timeout, what)


# --- Given ---------------------------------------------------------------------------------


@given("an ordering service whose outbox relays to the broker")
def ordering_with_outbox(messaging: Messaging) -> None:
    outbox = new_outbox(messaging, messaging.outbox_storage, messaging.broker)
    build_ordering(messaging, outbox, routed=False)  # the spec's OutboxMiddleware(outbox)


@given("an ordering service that routes its events")
def ordering_with_router(messaging: Messaging) -> None:
    router = TopicRoutingPublisher(
        destinations={
            "integration": new_outbox(messaging, messaging.outbox_storage, messaging.broker),
            "notifications": new_outbox(
                messaging, InMemoryOutboxStorage(), messaging.notifications
            ),
        }
    )
    build_ordering(messaging, router, routed=True)


@given("the outbox gives up after 2 retries")
def outbox_gives_up(messaging: Messaging) -> None:
    for outbox in messaging.outboxes:
        outbox.service.max_retries = 2


@given("the broker is down")
def broker_down(messaging: Messaging) -> None:
    messaging.broker.take_down()


@given("a billing consumer with an inbox")
def billing_consumer(messaging: Messaging) -> None:
    new_billing_consumer(messaging, messaging.invoicing)


@given("the consumer has a second member on the same queue")
def second_member(messaging: Messaging) -> None:
    consumer = messaging.consumers[0]
    messaging.run(messaging.broker.subscribe, "OrderPlaced", consumer.handle, "billing")


@given("invoicing takes a while")
def invoicing_is_slow(messaging: Messaging) -> None:
    messaging.invoicing.delay = 0.05


@given(parsers.parse('invoicing always fails with "{reason}"'))
def invoicing_fails(messaging: Messaging, reason: str) -> None:
    messaging.invoicing.failure = reason


@given(parsers.parse("{count:d} billing replicas consuming one queue"))
def billing_replicas(messaging: Messaging, count: int) -> None:
    for replica in range(count):
        handler = InvoiceOnOrderPlaced(delay=0.002, replica=replica)
        messaging.replicas.append(handler)
        new_billing_consumer(messaging, handler)


@given("an audit consumer on a queue of its own")
def audit_consumer(messaging: Messaging) -> None:
    async def record(payload: dict[str, Any]) -> None:
        messaging.audit.append(payload)

    # Two bindings of one queue that both match: the queue still gets one copy.
    messaging.run(messaging.broker.subscribe, "OrderPlaced", record, "audit")
    messaging.run(messaging.broker.subscribe, "OrderPlaced.#", record, "audit")


@given(parsers.parse("{count:d} events waiting in the outbox"))
@given(parsers.parse("{count:d} event waiting in the outbox"))
def events_waiting(messaging: Messaging, count: int) -> None:
    messaging.events = [
        OrderPlaced(order_id=f"o-{i}", customer_id="c-1", total=i) for i in range(count)
    ]
    rows = [OutboxMessage.create("OrderPlaced", event) for event in messaging.events]
    messaging.run(messaging.outbox_storage.save, rows)


@given("a relay that claimed it crashed while publishing")
def relay_crashed(messaging: Messaging) -> None:
    hung = RecordingPublisher(delay=60)
    relay = OutboxService(messaging.outbox_storage, hung, lease_seconds=30, publish_timeout=120)

    async def crash() -> None:
        messaging.crashed = asyncio.create_task(relay.process_batch())
        await eventually(lambda: hung.calls == 1, what="the relay is publishing")
        messaging.crashed.cancel()  # it dies holding the claim

    messaging.run(crash)


@given(parsers.parse('a router with a route only for "{topic}"'))
def router_with_one_route(messaging: Messaging, topic: str) -> None:
    messaging.router = TopicRoutingPublisher(routes={topic: messaging.broker})


# --- When ----------------------------------------------------------------------------------


@when(parsers.parse('the customer places order "{order_id}"'))
def places_order(messaging: Messaging, order_id: str) -> None:
    place(messaging, order_id)


@when(parsers.parse('the customer places orders "{ids}"'))
def places_orders(messaging: Messaging, ids: str) -> None:
    for order_id in order_ids(ids):
        place(messaging, order_id)


@when(parsers.parse("the customer places {count:d} orders"))
def places_many(messaging: Messaging, count: int) -> None:
    for i in range(count):
        place(messaging, f"o-{i}")


@when(parsers.parse('placing order "{order_id}" fails after its handler wrote the order'))
def placing_fails(messaging: Messaging, order_id: str) -> None:
    place(messaging, order_id, "raise")
    assert messaging.error is not None


@when(parsers.parse('placing order "{order_id}" is refused by its handler'))
def placing_refused(messaging: Messaging, order_id: str) -> None:
    place(messaging, order_id, "refuse")
    assert not messaging.responses[order_id].success


@when("the broker comes back")
def broker_back(messaging: Messaging) -> None:
    messaging.broker.bring_up()


@when("the broker comes back and the dead message is re-driven")
def broker_back_and_redrive(messaging: Messaging) -> None:
    messaging.broker.bring_up()
    outbox = messaging.outboxes[0]
    for dead in messaging.run(outbox.list_dead):
        assert messaging.run(outbox.redrive, dead.message_id)


@when(parsers.parse("{count:d} relays work through the outbox at the same time"))
def relays_race(messaging: Messaging, count: int) -> None:
    messaging.broker.publish_delay = 0.001  # each publish holds an await
    relays = [OutboxService(messaging.outbox_storage, messaging.broker) for _ in range(count)]

    async def relay(service: OutboxService) -> None:
        while await service.process_batch(batch_size=25):
            pass

    async def race() -> None:
        await asyncio.gather(*(relay(service) for service in relays))

    messaging.run(asyncio.wait_for, race(), 30)


@when("the lease runs out")
def lease_runs_out(messaging: Messaging) -> None:
    messaging.outbox_clock.advance(31)


@when(parsers.parse('the broker delivers the same "{topic}" of order "{order_id}" {times:d} times'))
def delivers_same(messaging: Messaging, topic: str, order_id: str, times: int) -> None:
    event = OrderPlaced(order_id=order_id, customer_id="c-1", total=100)
    for _ in range(times):
        messaging.run(messaging.broker.publish, topic, event)
    messaging.run(messaging.broker.drain)


@when(parsers.parse('two copies of "{topic}" of order "{order_id}" arrive at the same time'))
def two_copies(messaging: Messaging, topic: str, order_id: str) -> None:
    delivers_same(messaging, topic, order_id, 2)


@when(parsers.parse('the broker delivers "{topic}" of order "{order_id}"'))
def delivers_once(messaging: Messaging, topic: str, order_id: str) -> None:
    event = OrderPlaced(
        order_id=order_id, customer_id="c-1", total=100, correlation_id=f"story-{order_id}"
    )
    messaging.events = [event]
    messaging.run(messaging.broker.publish, topic, event)
    messaging.run(messaging.broker.drain)


@when(parsers.parse('the broker delivers the payload {payload} under "{topic}"'))
def delivers_payload(messaging: Messaging, payload: str, topic: str) -> None:
    messaging.run(messaging.broker.publish, topic, json.loads(payload))
    messaging.run(messaging.broker.drain)


@when(parsers.parse('"{topic}" is published through the router'))
def publish_through_router(messaging: Messaging, topic: str) -> None:
    assert messaging.router is not None
    try:
        messaging.run(messaging.router.publish, topic, {"event_type": topic})
    except Exception as exc:
        messaging.error = exc


# --- Then ----------------------------------------------------------------------------------


@then(parsers.parse('order "{order_id}" is stored'))
def order_stored(messaging: Messaging, order_id: str) -> None:
    assert messaging.ordering_store.committed("orders", order_id) is not None


@then(parsers.parse('order "{order_id}" is not stored'))
def order_not_stored(messaging: Messaging, order_id: str) -> None:
    assert messaging.ordering_store.committed("orders", order_id) is None


@then(parsers.parse('the broker eventually receives "{topic}" of order "{order_id}" exactly once'))
def broker_receives_once(messaging: Messaging, topic: str, order_id: str) -> None:
    def arrived() -> bool:
        return any(p["order_id"] == order_id for p in messaging.published(topic))

    wait_until(messaging, arrived, f"{topic} of {order_id} reached the broker")
    messaging.run(asyncio.sleep, 0.1)  # a second copy would have had time to follow
    copies = [p for p in messaging.published(topic) if p["order_id"] == order_id]
    assert len(copies) == 1, f"{len(copies)} copies of {topic} of {order_id}"


@then(parsers.parse('the broker eventually receives "{topic}" of orders "{ids}" exactly once each'))
def broker_receives_each_once(messaging: Messaging, topic: str, ids: str) -> None:
    for order_id in order_ids(ids):
        broker_receives_once(messaging, topic, order_id)


@then(
    parsers.parse(
        'the message carries the correlation id of the command that placed order "{order_id}"'
    )
)
def message_carries_correlation(messaging: Messaging, order_id: str) -> None:
    response = messaging.responses[order_id]
    [envelope] = [e for e in messaging.broker.published if e.payload.get("order_id") == order_id]
    assert envelope.correlation_id == response.correlation_id
    assert envelope.causation_id == response.causation_id
    assert envelope.payload["correlation_id"] == response.correlation_id


@then("the outbox holds no message")
def outbox_empty(messaging: Messaging) -> None:
    counts = messaging.run(messaging.outbox_storage.count_by_status)
    assert sum(counts.values()) == 0


@then("the broker receives nothing")
def broker_receives_nothing(messaging: Messaging) -> None:
    messaging.run(asyncio.sleep, 0.1)  # the relay had time to run
    assert messaging.broker.published == []


@then(parsers.parse("the outbox eventually holds {count:d} messages waiting for a retry"))
def outbox_waiting(messaging: Messaging, count: int) -> None:
    async def failed() -> bool:
        counts = await messaging.outbox_storage.count_by_status()
        return counts[OutboxStatus.FAILED] == count

    wait_until(messaging, failed, f"{count} failed rows")
    assert messaging.broker.published == []


@then(parsers.parse("the outbox eventually holds {count:d} published messages"))
def outbox_published(messaging: Messaging, count: int) -> None:
    async def published() -> bool:
        counts = await messaging.outbox_storage.count_by_status()
        return counts[OutboxStatus.PUBLISHED] == count and sum(counts.values()) == count

    wait_until(messaging, published, f"{count} published rows")


@then(parsers.parse("each of the {count:d} events was published exactly once"))
def each_published_once(messaging: Messaging, count: int) -> None:
    copies = Counter(e.message_id for e in messaging.broker.published)
    assert len(copies) == count
    assert set(copies.values()) == {1}, "some event was published twice"
    assert set(copies) == {e.event_id for e in messaging.events}


@then("no other relay can claim it while the lease holds")
def cannot_claim(messaging: Messaging) -> None:
    relay = OutboxService(messaging.outbox_storage, messaging.broker)
    assert messaging.run(relay.process_batch) == 0
    assert messaging.broker.published == []


@then("another relay publishes it, exactly once")
def another_relay_publishes(messaging: Messaging) -> None:
    relay = OutboxService(messaging.outbox_storage, messaging.broker)
    assert messaging.run(relay.process_batch) == 1
    assert messaging.run(relay.process_batch) == 0
    [envelope] = messaging.broker.published
    assert envelope.message_id == messaging.events[0].event_id


@then(parsers.parse('order "{order_id}" is invoiced once'))
def invoiced_once(messaging: Messaging, order_id: str) -> None:
    assert len(messaging.invoices_of(order_id)) == 1


@then(parsers.parse('order "{order_id}" is not invoiced'))
def not_invoiced(messaging: Messaging, order_id: str) -> None:
    assert messaging.invoices_of(order_id) == []


@then("no invoice exists")
def no_invoice(messaging: Messaging) -> None:
    assert messaging.billing_store.collections.get("invoices", {}) == {}
    assert messaging.invoicing.calls == 0


@then(parsers.parse("the consumer acknowledged all {count:d} deliveries"))
def acknowledged_all(messaging: Messaging, count: int) -> None:
    assert messaging.broker.delivered_count("billing") == count
    consumer = messaging.consumers[0]
    assert (consumer.processed, consumer.duplicates) == (1, count - 1)


@then("nothing was dead-lettered")
def nothing_dead(messaging: Messaging) -> None:
    assert messaging.broker.dead_letters() == []


@then("the inbox does not remember the message")
def inbox_forgot(messaging: Messaging) -> None:
    [event] = messaging.events
    assert not messaging.run(messaging.inbox.has_processed, event.event_id, "billing")


@then(parsers.parse('order "{order_id}" is eventually invoiced for {total:d}'))
def eventually_invoiced(messaging: Messaging, order_id: str, total: int) -> None:
    wait_until(messaging, lambda: messaging.invoices_of(order_id), f"{order_id} invoiced")
    [invoice] = messaging.invoices_of(order_id)
    assert invoice["total"] == total


@then(parsers.parse('billing received the event as its own class "{name}"'))
def billing_class(messaging: Messaging, name: str) -> None:
    assert [type(e).__name__ for e in messaging.invoicing.seen] == [name]


@then(
    parsers.parse(
        'the invoice carries the correlation id of the command that placed order "{order_id}"'
    )
)
def invoice_correlation(messaging: Messaging, order_id: str) -> None:
    [invoice] = messaging.invoices_of(order_id)
    assert invoice["correlation_id"] == messaging.responses[order_id].correlation_id


@then(parsers.parse("each of the {count:d} orders is eventually invoiced exactly once"))
def all_invoiced_once(messaging: Messaging, count: int) -> None:
    def all_invoiced() -> bool:
        return all(messaging.invoices_of(f"o-{i}") for i in range(count))

    wait_until(messaging, all_invoiced, "every order invoiced")
    messaging.run(messaging.broker.drain)
    for i in range(count):
        assert len(messaging.invoices_of(f"o-{i}")) == 1


@then("both billing replicas handled some of them")
def both_replicas(messaging: Messaging) -> None:
    assert all(replica.calls > 0 for replica in messaging.replicas)


@then(parsers.parse("the audit consumer eventually saw all {count:d} orders"))
def audit_saw_all(messaging: Messaging, count: int) -> None:
    wait_until(messaging, lambda: len(messaging.audit) >= count, "the audit copies")
    messaging.run(messaging.broker.drain)
    assert sorted(p["order_id"] for p in messaging.audit) == sorted(
        f"o-{i}" for i in range(count)
    ), "one copy each, even though two of its bindings match"


@then(
    parsers.re(
        r"the message is dead-lettered after (?P<count>\d+) deliver(y|ies) with a reason "
        r'containing "(?P<reason>.*)"'
    ),
    converters={"count": int},
)
def dead_lettered(messaging: Messaging, count: int, reason: str) -> None:
    [dead] = messaging.broker.dead_letters("billing")
    assert dead.deliveries == count
    assert reason in dead.reason, dead.reason


@then(parsers.parse("invoicing was attempted {count:d} times"))
def attempted(messaging: Messaging, count: int) -> None:
    assert messaging.invoicing.calls == count


@then(
    parsers.parse(
        'the dead letter keeps the message id and the correlation id of order "{order_id}"'
    )
)
def dead_letter_ids(messaging: Messaging, order_id: str) -> None:
    [dead] = messaging.broker.dead_letters("billing")
    [event] = messaging.events
    assert dead.message_id == event.event_id
    assert dead.headers["correlation_id"] == f"story-{order_id}"
    assert dead.payload == event.to_payload()


@then(
    parsers.parse(
        'the outbox eventually lists the "{topic}" of order "{order_id}" as dead with an error '
        'containing "{error}"'
    )
)
def outbox_lists_dead(messaging: Messaging, topic: str, order_id: str, error: str) -> None:
    outbox = messaging.outboxes[0]

    async def dead_listed() -> bool:
        return bool(await outbox.list_dead())

    wait_until(messaging, dead_listed, "the row died")
    [dead] = messaging.run(outbox.list_dead)
    assert (dead.topic, dead.payload["order_id"]) == (topic, order_id)
    assert dead.attempts == 3
    assert dead.last_error is not None
    assert error in dead.last_error


@then(
    parsers.parse('the notifications publisher eventually receives "{topic}" of order "{order_id}"')
)
def notification_received(messaging: Messaging, topic: str, order_id: str) -> None:
    def arrived() -> bool:
        return any(p.topic == topic for p in messaging.notifications.published)

    wait_until(messaging, arrived, "the notification")
    [sent] = messaging.notifications.published
    assert sent.message["order_id"] == order_id


@then("the notifications publisher receives nothing")
def notifications_nothing(messaging: Messaging) -> None:
    messaging.run(asyncio.sleep, 0.05)
    assert messaging.notifications.published == []


@then(parsers.parse('the read model noted order "{order_id}" in-process'))
def read_model_noted(messaging: Messaging, order_id: str) -> None:
    assert messaging.read_model == [order_id]


@then(parsers.parse('the read model did not note order "{order_id}"'))
def read_model_not_noted(messaging: Messaging, order_id: str) -> None:
    assert order_id not in messaging.read_model


@then(parsers.parse('no "{topic}" left the process'))
def nothing_left(messaging: Messaging, topic: str) -> None:
    assert messaging.published(topic) == []
    assert all(p.topic != topic for p in messaging.notifications.published)


@then(parsers.parse('publishing fails with "{text}"'))
def publishing_fails(messaging: Messaging, text: str) -> None:
    assert messaging.error is not None
    assert text in str(messaging.error)
