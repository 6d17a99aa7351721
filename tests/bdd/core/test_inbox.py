"""Scenarios: features/core/inbox.feature - a redelivered message has its effect once.

Shared steps (the storefront consumer, the broker delivering): messaging_world.py.
The words of the feature: a storefront worker is a consumer on the "storefront" queue, "confirmed"
acknowledged, "a copy" a duplicate the inbox recognised.
"""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.core.messaging_world import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_world import NEWS, Messaging
from tests.warehouse.messaging import ShipmentAnnounced

scenarios("core/inbox.feature")


@given("a second storefront worker takes from the same queue")
def second_member(messaging: Messaging) -> None:
    consumer = messaging.consumers[0]
    messaging.run(messaging.broker.subscribe, "ShipmentAnnounced", consumer.handle, "storefront")


@given("listing takes a while")
def listing_is_slow(messaging: Messaging) -> None:
    messaging.listing.delay = 0.05


@when(
    parsers.parse('the broker delivers the same {news} of shipment "{shipment_id}" {times:d} times')
)
def delivers_same(messaging: Messaging, news: str, shipment_id: str, times: int) -> None:
    topic = NEWS[news]
    event = ShipmentAnnounced(shipment_id=shipment_id, supplier="acme", quantity=100)
    for _ in range(times):
        messaging.run(messaging.broker.publish, topic, event)
    messaging.run(messaging.broker.drain)


@when(parsers.parse('two copies of the {news} of shipment "{shipment_id}" arrive at the same time'))
def two_copies(messaging: Messaging, news: str, shipment_id: str) -> None:
    delivers_same(messaging, news, shipment_id, 2)


@then(parsers.parse('shipment "{shipment_id}" is listed once'))
def listed_once(messaging: Messaging, shipment_id: str) -> None:
    assert len(messaging.listings_of(shipment_id)) == 1


@then(parsers.parse('shipment "{shipment_id}" is not listed'))
def not_listed(messaging: Messaging, shipment_id: str) -> None:
    assert messaging.listings_of(shipment_id) == []


@then(
    parsers.parse(
        "the storefront confirmed all {count:d} deliveries, recognising all but the first as copies"
    )
)
def acknowledged_all(messaging: Messaging, count: int) -> None:
    assert messaging.broker.delivered_count("storefront") == count
    consumer = messaging.consumers[0]
    assert (consumer.processed, consumer.duplicates) == (1, count - 1)


@then("nothing was dead-lettered")
def nothing_dead(messaging: Messaging) -> None:
    assert messaging.broker.dead_letters() == []


@then("the inbox does not remember the announcement")
def inbox_forgot(messaging: Messaging) -> None:
    [event] = messaging.events
    assert not messaging.run(messaging.inbox.has_processed, event.event_id, "storefront")
