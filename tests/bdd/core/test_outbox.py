"""Scenarios: features/core/outbox.feature - what commits is relayed, what does not never leaves.

Shared steps (the warehouse, the broker, registering a shipment): messaging_world.py.
The words of the feature: an announcement is an outbox row of ``ShipmentAnnounced``; "waiting to
be tried again" the FAILED status, "marked as sent" PUBLISHED; a relay's claim is its lease.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.bdd.core.messaging_world import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_world import (
    NEWS,
    Messaging,
    broker_receives_once,
    build_warehouse,
    register,
    shipment_ids,
    wait_until,
)
from tests.messaging.support import RecordingPublisher, eventually
from tests.warehouse.messaging import ShipmentAnnounced

scenarios("core/outbox.feature")


@given(parsers.parse("{count:d} announcements waiting in the outbox"))
@given(parsers.parse("{count:d} announcement waiting in the outbox"))
def events_waiting(messaging: Messaging, count: int) -> None:
    messaging.events = [
        ShipmentAnnounced(shipment_id=f"s-{i}", supplier="acme", quantity=i) for i in range(count)
    ]
    rows = [OutboxMessage.create("ShipmentAnnounced", event) for event in messaging.events]
    messaging.run(messaging.outbox_storage.save, rows)


@given("a relay that claimed it crashed while sending it")
def relay_crashed(messaging: Messaging) -> None:
    hung = RecordingPublisher(delay=60)
    relay = OutboxService(messaging.outbox_storage, hung, lease_seconds=30, publish_timeout=120)

    async def crash() -> None:
        messaging.crashed = asyncio.create_task(relay.process_batch())
        await eventually(lambda: hung.calls == 1, what="the relay is publishing")
        messaging.crashed.cancel()  # it dies holding the claim

    messaging.run(crash)


@given(
    parsers.parse(
        "a warehouse whose outbox relay books what it sent at most {delay:d} seconds later"
    )
)
def warehouse_gathering_marks(messaging: Messaging, delay: int) -> None:
    storage = messaging.outbox_storage
    mark_published = storage.mark_published

    async def counted(message_ids: list[str], claim_token: str) -> int:
        messaging.marks.append(len(message_ids))
        return await mark_published(message_ids, claim_token)

    storage.mark_published = counted  # type: ignore[method-assign]
    outbox = BufferedOutbox(storage, messaging.broker, wait_delay=0.001, mark_delay=delay)
    messaging.outboxes.append(outbox)
    messaging.run(outbox.start)
    build_warehouse(messaging, outbox, routed=False)


@when(parsers.parse('the warehouse registers shipments "{ids}", each announced before the next'))
def registers_one_at_a_time(messaging: Messaging, ids: str) -> None:
    for shipment_id in shipment_ids(ids):
        register(messaging, shipment_id)

        def arrived(shipment_id: str = shipment_id) -> bool:
            published = messaging.published(NEWS["announcement"])
            return any(p["shipment_id"] == shipment_id for p in published)

        wait_until(messaging, arrived, f"the announcement of {shipment_id} reached the broker")


@when(parsers.parse('the warehouse registers shipments "{ids}"'))
def registers_shipments(messaging: Messaging, ids: str) -> None:
    for shipment_id in shipment_ids(ids):
        register(messaging, shipment_id)


@when(parsers.parse('the clerk turns down registering shipment "{shipment_id}"'))
def registering_refused(messaging: Messaging, shipment_id: str) -> None:
    register(messaging, shipment_id, "refuse")
    assert not messaging.responses[shipment_id].success


@when("the broker comes back")
def broker_back(messaging: Messaging) -> None:
    messaging.broker.bring_up()


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


@when("the claim runs out")
def lease_runs_out(messaging: Messaging) -> None:
    messaging.outbox_clock.advance(31)


@then(parsers.parse('shipment "{shipment_id}" is in the books'))
def shipment_stored(messaging: Messaging, shipment_id: str) -> None:
    assert messaging.warehouse_store.committed("shipments", shipment_id) is not None


@then(parsers.parse('shipment "{shipment_id}" is not in the books'))
def shipment_not_stored(messaging: Messaging, shipment_id: str) -> None:
    assert messaging.warehouse_store.committed("shipments", shipment_id) is None


@then(
    parsers.parse(
        'the broker eventually receives the {news} of shipments "{ids}" exactly once each'
    )
)
def broker_receives_each_once(messaging: Messaging, news: str, ids: str) -> None:
    for shipment_id in shipment_ids(ids):
        broker_receives_once(messaging, NEWS[news], shipment_id)


@then(
    parsers.parse(
        "the announcement carries the tracking number and the reference of the request that "
        'registered shipment "{shipment_id}"'
    )
)
def message_carries_correlation(messaging: Messaging, shipment_id: str) -> None:
    response = messaging.responses[shipment_id]
    [envelope] = [
        e for e in messaging.broker.published if e.payload.get("shipment_id") == shipment_id
    ]
    assert envelope.correlation_id == response.correlation_id
    assert envelope.causation_id == response.causation_id
    assert envelope.payload["correlation_id"] == response.correlation_id


@then("the outbox is empty")
def outbox_empty(messaging: Messaging) -> None:
    counts = messaging.run(messaging.outbox_storage.count_by_status)
    assert sum(counts.values()) == 0


@then(
    parsers.parse("the outbox eventually holds {count:d} announcements waiting to be tried again")
)
def outbox_waiting(messaging: Messaging, count: int) -> None:
    async def failed() -> bool:
        counts = await messaging.outbox_storage.count_by_status()
        return counts[OutboxStatus.FAILED] == count

    wait_until(messaging, failed, f"{count} failed rows")
    assert messaging.broker.published == []


@then(parsers.parse("the outbox eventually holds {count:d} announcements marked as sent"))
def outbox_published(messaging: Messaging, count: int) -> None:
    async def published() -> bool:
        counts = await messaging.outbox_storage.count_by_status()
        return counts[OutboxStatus.PUBLISHED] == count and sum(counts.values()) == count

    wait_until(messaging, published, f"{count} published rows")


@then(parsers.parse("the {count:d} announcements are still booked as being sent"))
def still_claimed(messaging: Messaging, count: int) -> None:
    counts = messaging.run(messaging.outbox_storage.count_by_status)
    assert counts[OutboxStatus.CLAIMED] == count, counts
    assert messaging.marks == []


@then(parsers.parse("all {count:d} were booked as sent in one write"))
def booked_in_one_write(messaging: Messaging, count: int) -> None:
    assert messaging.marks == [count]


@then(parsers.parse("each of the {count:d} announcements was sent exactly once"))
def each_published_once(messaging: Messaging, count: int) -> None:
    copies = Counter(e.message_id for e in messaging.broker.published)
    assert len(copies) == count
    assert set(copies.values()) == {1}, "some event was published twice"
    assert set(copies) == {e.event_id for e in messaging.events}


@then("no other relay can claim it while the claim lasts")
def cannot_claim(messaging: Messaging) -> None:
    relay = OutboxService(messaging.outbox_storage, messaging.broker)
    assert messaging.run(relay.process_batch) == 0
    assert messaging.broker.published == []


@then("another relay sends it, exactly once")
def another_relay_publishes(messaging: Messaging) -> None:
    relay = OutboxService(messaging.outbox_storage, messaging.broker)
    assert messaging.run(relay.process_batch) == 1
    assert messaging.run(relay.process_batch) == 0
    [envelope] = messaging.broker.published
    assert envelope.message_id == messaging.events[0].event_id
