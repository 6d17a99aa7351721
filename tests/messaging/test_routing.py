"""Routing: decorator, routes, default - and the outbox middleware that follows the routes."""

from __future__ import annotations

import pytest

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.publishers.decorators import route_to
from cqrs_ddd_core.cqrs.publishers.handler import PublishingEventHandler
from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION, RouteTable
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher, UnknownDestinationError
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.outbox import OutboxStatus
from cqrs_ddd_core.primitives.exceptions import UnroutableMessageError
from tests.messaging.support import ItemAdded, RecordingPublisher
from tests.warehouse.messaging import ShipmentAnnounced, ShipmentNoted, SupplierThanked


def publishers() -> tuple[RecordingPublisher, RecordingPublisher, RecordingPublisher]:
    return RecordingPublisher("routed"), RecordingPublisher("marked"), RecordingPublisher("default")


async def test_the_decorator_wins_over_routes_and_routes_over_the_default() -> None:
    routed, marked, default = publishers()
    router = TopicRoutingPublisher(
        routes={"ShipmentAnnounced": routed, "ItemAdded": routed},
        destinations={"integration": marked},
        default=default,
    )

    await router.publish(
        "ShipmentAnnounced", ShipmentAnnounced(shipment_id="s-1", supplier="acme", quantity=1)
    )  # marked "integration"
    await router.publish("ItemAdded", ItemAdded(sku="a"))  # a route
    await router.publish("Other", ItemAdded(sku="b"))  # nothing: the default

    assert [p.topic for p in marked.published] == ["ShipmentAnnounced"]
    assert [p.topic for p in routed.published] == ["ItemAdded"]
    assert [p.topic for p in default.published] == ["Other"]


async def test_a_message_nothing_routes_raises_instead_of_vanishing() -> None:
    router = TopicRoutingPublisher(routes={"ItemAdded": RecordingPublisher()})
    with pytest.raises(UnroutableMessageError, match="No publisher for 'Other'"):
        await router.publish("Other", ItemAdded(sku="a"))


async def test_an_event_the_route_table_does_not_list_is_refused_with_the_tables_way_out() -> None:
    table = RouteTable({ShipmentAnnounced: [INTEGRATION]}, {INTEGRATION: RecordingPublisher()})
    with pytest.raises(UnroutableMessageError, match="list its event type in the route table"):
        await table.publish("ItemAdded", ItemAdded(sku="a"))


async def test_a_class_marked_for_a_missing_destination_is_a_loud_wiring_error() -> None:
    router = TopicRoutingPublisher(destinations={"integration": RecordingPublisher()})
    with pytest.raises(UnknownDestinationError, match="no 'notifications' destination"):
        await router.publish("SupplierThanked", SupplierThanked(shipment_id="s-1", text="thanks"))


async def test_routes_can_be_registered_later_and_kwargs_pass_through() -> None:
    target = RecordingPublisher()
    router = TopicRoutingPublisher()
    router.register_route("ItemAdded", target)
    await router.publish("ItemAdded", ItemAdded(sku="a"), correlation_id="c-1")
    assert target.published[0].kwargs == {"correlation_id": "c-1"}


def test_route_to_marks_the_class_and_its_subclasses() -> None:
    @route_to("slow")
    class Heavy(DomainEvent):
        data: dict[str, int]

    class Heavier(Heavy):
        pass

    assert Heavy.__route_to__ == "slow"  # type: ignore[attr-defined]
    assert Heavier.__route_to__ == "slow"  # type: ignore[attr-defined]
    assert Heavy(data={"a": 1}).data == {"a": 1}, "still a working pydantic model"


async def test_the_publishing_event_handler_publishes_under_the_type_name_with_the_ids() -> None:
    target = RecordingPublisher()
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(ItemAdded, PublishingEventHandler(publisher=target))
    event = ItemAdded(sku="a", correlation_id="story", causation_id="cmd")

    await dispatcher.dispatch(event)

    [sent] = target.published
    assert (sent.topic, sent.message) == ("ItemAdded", event)
    assert sent.kwargs == {
        "message_id": event.event_id,
        "correlation_id": "story",
        "causation_id": "cmd",
    }


class RegisterShipment(Command[str]):
    fail: bool = False


class RegisterShipmentHandler:
    async def handle(self, command: RegisterShipment) -> CommandResponse[str]:
        events: list[DomainEvent] = [
            ShipmentAnnounced(shipment_id="s-1", supplier="acme", quantity=1),
            SupplierThanked(shipment_id="s-1", text="thank you"),
            ShipmentNoted(shipment_id="s-1"),
        ]
        return CommandResponse(result="s-1", events=events, success=not command.fail)


async def test_the_outbox_middleware_follows_routes_and_keeps_unrouted_events_in_process() -> None:
    integration, notifications = InMemoryOutboxStorage(), InMemoryOutboxStorage()
    broker, mailer = RecordingPublisher("broker"), RecordingPublisher("mailer")
    router = TopicRoutingPublisher(
        destinations={
            "integration": BufferedOutbox(integration, broker),
            "notifications": BufferedOutbox(notifications, mailer),
        }
    )
    notes: list[DomainEvent] = []

    async def read_model(event: DomainEvent) -> None:
        notes.append(event)

    handlers = HandlerRegistry()
    handlers.register_command_handler(RegisterShipment, RegisterShipmentHandler())
    handlers.register_event_handler(ShipmentNoted, read_model)
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(router), priority=20)
    mediator = Mediator(handlers, InMemoryUnitOfWork, middleware_registry=middleware)

    await mediator.send(RegisterShipment(fail=True))  # success=False: nothing may leave
    response = await mediator.send(RegisterShipment())

    [announced] = await integration.claim_batch(10, lease_seconds=30)
    [notice] = await notifications.claim_batch(10, lease_seconds=30)
    assert announced.topic == "ShipmentAnnounced"
    assert announced.correlation_id == response.correlation_id
    assert announced.causation_id == response.causation_id
    assert notice.topic == "SupplierThanked"
    assert [type(n).__name__ for n in notes] == ["ShipmentNoted"], "handled in-process"
    for storage in (integration, notifications):
        assert sum((await storage.count_by_status()).values()) == 1
    assert (await integration.count_by_status())[OutboxStatus.CLAIMED] == 1


async def test_the_outbox_middleware_hands_over_nothing_for_a_refused_command() -> None:
    direct = RecordingPublisher()  # not transactional: only the middleware's check protects it
    handlers = HandlerRegistry()
    handlers.register_command_handler(RegisterShipment, RegisterShipmentHandler())
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(direct), priority=20)
    mediator = Mediator(handlers, InMemoryUnitOfWork, middleware_registry=middleware)

    refused = await mediator.send(RegisterShipment(fail=True))
    assert not refused.success
    assert direct.published == []

    await mediator.send(RegisterShipment())
    assert [p.topic for p in direct.published] == [
        "ShipmentAnnounced",
        "SupplierThanked",
        "ShipmentNoted",
    ], "without a router, every event goes to the outbox under its type name"
