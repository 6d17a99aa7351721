"""Scenarios: features/core/routing.feature - each event goes where it is routed.

Three ways to route, one scenario each: a `RouteTable` (the services' way), ``@route_to`` on
the event classes with a `TopicRoutingPublisher`, and a `PublishingEventHandler`.

Shared steps (registering a shipment, what the broker receives): messaging_world.py.
The words of the feature: news is an event (`NEWS` names each), "the notifications" the
notifications destination, "an address written on each kind of news" ``@route_to``, "a listener
that sends on what it hears" a `PublishingEventHandler`, the shipment log the read model.
"""

from __future__ import annotations

import asyncio

from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.publishers.handler import PublishingEventHandler
from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION, NOTIFICATIONS, RouteTable
from cqrs_ddd_core.cqrs.publishers.routing import TopicRoutingPublisher
from tests.bdd.core.messaging_world import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_world import (
    NEWS,
    Messaging,
    build_warehouse,
    new_outbox,
    wait_until,
)
from tests.warehouse.messaging import ShipmentAnnounced, SupplierThanked

scenarios("core/routing.feature")


@given("a warehouse that sends each kind of news where it is addressed")
def warehouse_with_router(messaging: Messaging) -> None:
    router = TopicRoutingPublisher(
        destinations={
            "integration": new_outbox(messaging, messaging.outbox_storage, messaging.broker),
            "notifications": new_outbox(
                messaging, InMemoryOutboxStorage(), messaging.notifications
            ),
        }
    )
    build_warehouse(messaging, router, routed=True)


@given(
    "a warehouse whose route table sends the announcement to the broker and to the notifications"
)
def warehouse_with_route_table(messaging: Messaging) -> None:
    # SupplierThanked is marked @route_to("notifications"), but the table does not list it:
    # the table alone decides, so it stays in-process.
    table = RouteTable(
        routes={ShipmentAnnounced: [INTEGRATION, NOTIFICATIONS]},
        destinations={
            INTEGRATION: new_outbox(messaging, messaging.outbox_storage, messaging.broker),
            NOTIFICATIONS: new_outbox(messaging, InMemoryOutboxStorage(), messaging.notifications),
        },
    )
    build_warehouse(messaging, table, routed=True)


@given("a warehouse whose thank-you notes are heard by a listener that sends them on")
def warehouse_with_publishing_handler(messaging: Messaging) -> None:
    # No outbox middleware at all: the handler itself hands the event to a transactional
    # publisher (an outbox), so it leaves only if the command commits.
    notifications = new_outbox(messaging, InMemoryOutboxStorage(), messaging.notifications)
    publishing = PublishingEventHandler(notifications)
    build_warehouse(messaging, None, routed=True, event_handlers=[(SupplierThanked, publishing)])


@given(parsers.parse("a router with a route only for the {news}"))
def router_with_one_route(messaging: Messaging, news: str) -> None:
    messaging.router = TopicRoutingPublisher(routes={NEWS[news]: messaging.broker})


@when(parsers.parse("a {news} is sent through the router"))
def publish_through_router(messaging: Messaging, news: str) -> None:
    assert messaging.router is not None
    topic = NEWS[news]
    try:
        messaging.run(messaging.router.publish, topic, {"event_type": topic})
    except Exception as exc:
        messaging.error = exc


@then(parsers.parse('the notifications eventually carry the {news} of shipment "{shipment_id}"'))
def notification_received(messaging: Messaging, news: str, shipment_id: str) -> None:
    topic = NEWS[news]

    def arrived() -> bool:
        return any(p.topic == topic for p in messaging.notifications.published)

    wait_until(messaging, arrived, "the notification")
    [sent] = messaging.notifications.published
    assert sent.message["shipment_id"] == shipment_id


@then("the notifications carry nothing")
def notifications_nothing(messaging: Messaging) -> None:
    messaging.run(asyncio.sleep, 0.05)
    assert messaging.notifications.published == []


@then(parsers.parse('the warehouse\'s own shipment log noted shipment "{shipment_id}"'))
def read_model_noted(messaging: Messaging, shipment_id: str) -> None:
    assert messaging.read_model == [shipment_id]


@then(parsers.parse('the warehouse\'s own shipment log did not note shipment "{shipment_id}"'))
def read_model_not_noted(messaging: Messaging, shipment_id: str) -> None:
    assert shipment_id not in messaging.read_model


@then(parsers.parse("no {news} left the warehouse"))
def nothing_left(messaging: Messaging, news: str) -> None:
    topic = NEWS[news]
    assert messaging.published(topic) == []
    assert all(p.topic != topic for p in messaging.notifications.published)


@then(parsers.parse("sending fails because no route takes a {news}"))
def publishing_fails(messaging: Messaging, news: str) -> None:
    assert messaging.error is not None
    assert f"No publisher for {NEWS[news]!r}" in str(messaging.error)
