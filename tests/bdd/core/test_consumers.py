"""Scenarios: features/core/consumers.feature - an event crosses into another context's class.

Shared steps (the warehouse, the storefront consumer, registering a shipment): messaging_world.py.
The words of the feature: a storefront worker is a replica of the storefront's consumer (one
queue), the auditor a consumer with a queue of its own, "its own idea of a shipment" the
storefront's event class, a tracking number a correlation id.
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.core.messaging_world import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_world import (
    Messaging,
    new_storefront_consumer,
    register,
    wait_until,
)
from tests.warehouse.messaging import ListStockOnShipment, StorefrontShipment

scenarios("core/consumers.feature")


@given(parsers.parse("{count:d} storefront workers taking from one queue"))
def storefront_replicas(messaging: Messaging, count: int) -> None:
    for replica in range(count):
        handler = ListStockOnShipment(delay=0.002, replica=replica)
        messaging.replicas.append(handler)
        new_storefront_consumer(messaging, handler)


@given("an auditor with a queue of its own")
def audit_consumer(messaging: Messaging) -> None:
    async def record(payload: dict[str, Any]) -> None:
        messaging.audit.append(payload)

    # Two bindings of one queue that both match: the queue still gets one copy.
    messaging.run(messaging.broker.subscribe, "ShipmentAnnounced", record, "audit")
    messaging.run(messaging.broker.subscribe, "ShipmentAnnounced.#", record, "audit")


@when(parsers.parse("the warehouse registers {count:d} shipments"))
def registers_many(messaging: Messaging, count: int) -> None:
    for i in range(count):
        register(messaging, f"s-{i}")


@then(
    parsers.parse(
        'the storefront eventually lists shipment "{shipment_id}" with {quantity:d} units'
    )
)
def eventually_listed(messaging: Messaging, shipment_id: str, quantity: int) -> None:
    wait_until(messaging, lambda: messaging.listings_of(shipment_id), f"{shipment_id} listed")
    [listing] = messaging.listings_of(shipment_id)
    assert listing["quantity"] == quantity


@then("the storefront read the announcement into its own idea of a shipment")
def storefront_class(messaging: Messaging) -> None:
    assert [type(e) for e in messaging.listing.seen] == [StorefrontShipment]


@then(
    parsers.parse(
        "the listing carries the tracking number of the request that registered "
        'shipment "{shipment_id}"'
    )
)
def listing_correlation(messaging: Messaging, shipment_id: str) -> None:
    [listing] = messaging.listings_of(shipment_id)
    assert listing["correlation_id"] == messaging.responses[shipment_id].correlation_id


@then(parsers.parse("each of the {count:d} shipments is eventually listed exactly once"))
def all_listed_once(messaging: Messaging, count: int) -> None:
    def all_listed() -> bool:
        return all(messaging.listings_of(f"s-{i}") for i in range(count))

    wait_until(messaging, all_listed, "every shipment listed")
    messaging.run(messaging.broker.drain)
    for i in range(count):
        assert len(messaging.listings_of(f"s-{i}")) == 1


@then("both storefront workers listed some of them")
def both_replicas(messaging: Messaging) -> None:
    assert all(replica.calls > 0 for replica in messaging.replicas)


@then(parsers.parse("the auditor eventually saw each of the {count:d} shipments once"))
def audit_saw_all(messaging: Messaging, count: int) -> None:
    wait_until(messaging, lambda: len(messaging.audit) >= count, "the audit copies")
    messaging.run(messaging.broker.drain)
    assert sorted(p["shipment_id"] for p in messaging.audit) == sorted(
        f"s-{i}" for i in range(count)
    ), "one copy each, even though two of its bindings match"
