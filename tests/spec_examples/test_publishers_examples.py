"""docs/reference/publishers.md: every publisher and routing example, run as written.

Fill-ins: ``outbox_publisher`` is a real `BufferedOutbox` over an in-memory storage (so "went to
the outbox" means "a row is stored"); the other publishers (``kafka_publisher``,
``email_publisher``, ``sns_publisher``, ...) record what they receive. Where an example publishes
one ``event`` under two topics, ``event`` is bound to an event of the class each line names,
and ``...`` in a constructor becomes the missing fields.
"""

from __future__ import annotations

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.domain.events import DomainEvent
from tests.messaging.support import RecordingPublisher
from tests.spec_examples.spec_domain import OrderConfirmed, OrderCreated


def outbox_over(storage: InMemoryOutboxStorage) -> BufferedOutbox:
    return BufferedOutbox(storage, broker=RecordingPublisher("broker"))


async def stored_topics(storage: InMemoryOutboxStorage) -> list[str]:
    return [row.topic for row in await storage.claim_batch(100, lease_seconds=30)]


def topics(publisher: RecordingPublisher) -> list[str]:
    return [p.topic for p in publisher.published]


async def test_basic_routing_by_topic_with_a_default() -> None:
    storage = InMemoryOutboxStorage()
    outbox_publisher = outbox_over(storage)
    email_publisher = RecordingPublisher("email")
    kafka_publisher = RecordingPublisher("kafka")
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")

    # --- spec: TopicRoutingPublisher / Basic Routing ---
    from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher

    # Create router
    router = TopicRoutingPublisher(
        routes={
            "OrderCreated": outbox_publisher,
            "UserRegistered": email_publisher,
        },
        default=kafka_publisher,
    )

    # Publish to specific publisher
    await router.publish("OrderCreated", event)  # → outbox_publisher
    await router.publish("PaymentProcessed", event)  # → kafka_publisher (default)
    # --- end of the example ---

    assert await stored_topics(storage) == ["OrderCreated"]
    assert topics(kafka_publisher) == ["PaymentProcessed"]
    assert email_publisher.published == []


async def test_routes_registered_dynamically() -> None:
    storage = InMemoryOutboxStorage()
    outbox_publisher = outbox_over(storage)
    kafka_publisher = RecordingPublisher("kafka")
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")

    # --- spec: TopicRoutingPublisher / Register Routes Dynamically ---
    from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher

    router = TopicRoutingPublisher(default=outbox_publisher)

    # Register routes
    router.register_route("OrderCreated", outbox_publisher)
    router.register_route("OrderConfirmed", kafka_publisher)

    # Publish
    await router.publish("OrderCreated", event)  # → outbox_publisher
    # --- end of the example ---

    assert await stored_topics(storage) == ["OrderCreated"]
    await router.publish("OrderConfirmed", OrderConfirmed(aggregate_id="order-123"))
    assert topics(kafka_publisher) == ["OrderConfirmed"]


async def test_destinations_and_decorators() -> None:
    storage = InMemoryOutboxStorage()
    outbox_publisher = outbox_over(storage)
    background_jobs_publisher = RecordingPublisher("jobs")
    realtime_publisher = RecordingPublisher("realtime")

    # --- spec: TopicRoutingPublisher / Destinations + Decorators ---
    from cqrs_ddd_core.cqrs.publishers.decorators import route_to
    from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher

    # Define events with routing
    @route_to("slow")
    class HeavyProcessingEvent(DomainEvent):
        data: dict

    @route_to("fast")
    class NotificationEvent(DomainEvent):
        message: str

    # Create router with destinations
    router = TopicRoutingPublisher(
        destinations={
            "slow": background_jobs_publisher,
            "fast": realtime_publisher,
        },
        default=outbox_publisher,
    )

    # Auto-routes based on decorator
    event = HeavyProcessingEvent(data={"rows": 10_000})  # fill-in: the event of this line
    await router.publish("HeavyProcessingEvent", event)  # → background_jobs_publisher
    event = NotificationEvent(message="hello")  # fill-in: the event of this line
    await router.publish("NotificationEvent", event)  # → realtime_publisher
    # --- end of the example ---

    assert topics(background_jobs_publisher) == ["HeavyProcessingEvent"]
    assert topics(realtime_publisher) == ["NotificationEvent"]
    await router.publish("OrderCreated", OrderCreated(customer_id="c"))  # undecorated
    assert await stored_topics(storage) == ["OrderCreated"], "the default takes the rest"


async def test_route_to_decorator_usage() -> None:
    sns_publisher = RecordingPublisher("sns")
    kinesis_publisher = RecordingPublisher("kinesis")

    # --- spec: @route_to Decorator / Usage Example ---
    from cqrs_ddd_core.cqrs.publishers.decorators import route_to
    from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
    from cqrs_ddd_core.domain.events import DomainEvent

    @route_to("notifications")
    class UserCreated(DomainEvent):
        user_id: str
        email: str

    @route_to("analytics")
    class OrderPlaced(DomainEvent):
        order_id: str
        total: float

    # TopicRoutingPublisher resolves automatically
    router = TopicRoutingPublisher(
        destinations={
            "notifications": sns_publisher,
            "analytics": kinesis_publisher,
        }
    )
    # --- end of the example ---

    await router.publish("UserCreated", UserCreated(user_id="u-1", email="u@example.com"))
    await router.publish("OrderPlaced", OrderPlaced(order_id="o-1", total=9.5))
    assert topics(sns_publisher) == ["UserCreated"]
    assert topics(kinesis_publisher) == ["OrderPlaced"]


async def test_publishing_event_handler_bridges_the_dispatcher_to_the_outbox() -> None:
    storage = InMemoryOutboxStorage()
    outbox_publisher = outbox_over(storage)

    # --- spec: PublishingEventHandler / Usage Example ---
    from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
    from cqrs_ddd_core.cqrs.publishers.handler import PublishingEventHandler

    # Create handler
    publisher_handler = PublishingEventHandler(publisher=outbox_publisher)

    # Register with dispatcher
    dispatcher = EventDispatcher()
    dispatcher.register(OrderCreated, publisher_handler)
    dispatcher.register(OrderConfirmed, publisher_handler)

    # Events automatically published
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")
    await dispatcher.dispatch(event)  # → outbox_publisher
    # --- end of the example ---

    [row] = await storage.claim_batch(10, lease_seconds=30)
    assert (row.topic, row.message_id) == ("OrderCreated", event.event_id)
    assert row.payload == event.to_payload()
    await dispatcher.dispatch(OrderConfirmed(aggregate_id="order-123"))
    assert await stored_topics(storage) == ["OrderConfirmed"]
