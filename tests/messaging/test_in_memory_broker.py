"""`InMemoryBroker`: topic routing, competing consumers, redelivery, dead letters, clean stops."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError, PublishError
from cqrs_ddd_core.primitives.topics import topic_matches
from tests.messaging.support import ItemAdded, eventually


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("shipments.announced", "shipments.announced", True),
        ("shipments.announced", "shipments.recounted", False),
        ("shipments.*", "shipments.announced", True),
        ("shipments.*", "shipments.announced.eu", False),
        ("shipments.#", "shipments", True),
        ("shipments.#", "shipments.announced.eu", True),
        ("#", "anything.at.all", True),
        ("*.announced", "shipments.announced", True),
        ("#.created", "a.b.created", True),
        ("ShipmentAnnounced", "ShipmentAnnounced", True),
        ("ShipmentAnnounced", "ShipmentRecounted", False),
    ],
)
def test_topics_match_as_on_a_rabbitmq_topic_exchange(
    pattern: str, topic: str, matches: bool
) -> None:
    assert topic_matches(pattern, topic) is matches


class Recorder:
    def __init__(self, delay: float = 0.0, fail_times: int = 0) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.delay = delay
        self.fail_times = fail_times
        self.calls = 0

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.calls <= self.fail_times:
            raise RuntimeError(f"handler failed on call {self.calls}")
        self.payloads.append(payload)


async def test_consumers_sharing_a_queue_compete_and_each_message_is_handled_once() -> None:
    broker = InMemoryBroker()
    first, second = Recorder(delay=0.001), Recorder(delay=0.001)
    await broker.subscribe("ItemAdded", first, queue_name="storefront")
    await broker.subscribe("ItemAdded", second, queue_name="storefront")

    for i in range(100):
        await broker.publish("ItemAdded", ItemAdded(sku=str(i)))
    await broker.drain()
    await broker.stop()

    skus = [p["sku"] for p in first.payloads + second.payloads]
    assert sorted(skus, key=int) == [str(i) for i in range(100)], "all, and none twice"
    assert first.payloads, "both members of the group got work"
    assert second.payloads, "both members of the group got work"
    assert broker.delivered_count("storefront") == 100


async def test_every_queue_gets_its_own_copy() -> None:
    broker = InMemoryBroker()
    storefront, audit, private = Recorder(), Recorder(), Recorder()
    await broker.subscribe("ItemAdded", storefront, queue_name="storefront")
    await broker.subscribe("#", audit, queue_name="audit")
    await broker.subscribe("ItemAdded", private)  # no queue name: a queue of its own

    await broker.publish("ItemAdded", ItemAdded(sku="a"))
    await broker.drain()
    await broker.stop()

    assert [len(r.payloads) for r in (storefront, audit, private)] == [1, 1, 1]
    storefront.payloads[0]["sku"] = "changed"
    assert audit.payloads[0]["sku"] == "a", "copies are independent, as on the wire"


async def test_a_failing_handler_is_redelivered_until_it_succeeds() -> None:
    broker = InMemoryBroker(max_deliveries=5)
    flaky = Recorder(fail_times=2)
    await broker.subscribe("ItemAdded", flaky, queue_name="q")

    await broker.publish("ItemAdded", ItemAdded(sku="a"))
    await broker.drain()

    assert flaky.calls == 3
    assert len(flaky.payloads) == 1
    assert broker.dead_letters() == []
    await broker.stop()


async def test_a_handler_that_keeps_failing_is_dead_lettered_with_headers_and_reason() -> None:
    broker = InMemoryBroker(max_deliveries=3)
    broken = Recorder(fail_times=100)
    await broker.subscribe("ItemAdded", broken, queue_name="q")
    event = ItemAdded(sku="a", correlation_id="story-1")

    await broker.publish("ItemAdded", event, causation_id="cmd-1", headers={"tenant": "t1"})
    await broker.drain()
    await broker.stop()

    assert broken.calls == 3
    [dead] = broker.dead_letters("q")
    assert dead.message_id == event.event_id
    assert dead.payload == event.to_payload()
    assert dead.deliveries == 3
    assert dead.reason == "handler failed 3 times; last: RuntimeError: handler failed on call 3"
    assert dead.headers["correlation_id"] == "story-1"
    assert dead.headers["causation_id"] == "cmd-1"
    assert dead.headers["tenant"] == "t1"
    assert dead.headers["x-death-reason"] == dead.reason


async def test_a_poison_message_is_dead_lettered_at_once() -> None:
    broker = InMemoryBroker(max_deliveries=5)
    calls = 0

    async def refuse(payload: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise PoisonMessageError("unknown event type 'Nope'")

    await broker.subscribe("Nope", refuse, queue_name="q")
    await broker.publish("Nope", {"event_type": "Nope"})
    await broker.drain()
    await broker.stop()

    assert calls == 1
    [dead] = broker.dead_letters()
    assert dead.reason == "poison message: unknown event type 'Nope'"
    assert dead.deliveries == 1


async def test_a_publish_no_queue_would_receive_fails_instead_of_vanishing() -> None:
    broker = InMemoryBroker()
    with pytest.raises(PublishError, match="No queue is bound to topic 'ItemAdded'"):
        await broker.publish("ItemAdded", ItemAdded(sku="a"))

    relaxed = InMemoryBroker(mandatory=False)
    await relaxed.publish("ItemAdded", ItemAdded(sku="a"))
    assert len(relaxed.published) == 1


async def test_a_declared_queue_keeps_messages_until_a_consumer_comes() -> None:
    broker = InMemoryBroker()
    broker.declare_queue("storefront", ["ItemAdded"])
    await broker.publish("ItemAdded", ItemAdded(sku="early"))
    assert broker.queue_depth("storefront") == 1

    late = Recorder()
    await broker.subscribe("ItemAdded", late, queue_name="storefront")
    await broker.drain()
    await broker.stop()
    assert [p["sku"] for p in late.payloads] == ["early"]


async def test_a_payload_that_is_not_json_fails_at_publish() -> None:
    broker = InMemoryBroker(mandatory=False)
    with pytest.raises(TypeError):
        await broker.publish("X", {"event_type": "X", "when": object()})


async def test_injected_publish_failures_fail_exactly_the_next_publishes() -> None:
    broker = InMemoryBroker(mandatory=False)
    broker.fail_next_publishes(2)
    outcomes: list[str] = []
    for _ in range(3):
        try:
            await broker.publish("X", {"event_type": "X"})
            outcomes.append("ok")
        except ConnectionError:
            outcomes.append("failed")
    assert outcomes == ["failed", "failed", "ok"]

    broker.take_down()
    with pytest.raises(ConnectionError):
        await broker.publish("X", {"event_type": "X"})
    broker.bring_up()
    await broker.publish("X", {"event_type": "X"})
    assert len(broker.published) == 2


async def test_stop_lets_the_message_in_hand_finish_and_keeps_the_rest_queued() -> None:
    broker = InMemoryBroker()
    slow = Recorder(delay=0.1)
    await broker.subscribe("ItemAdded", slow, queue_name="q")
    for i in range(3):
        await broker.publish("ItemAdded", ItemAdded(sku=str(i)))
    await eventually(lambda: slow.calls == 1, what="the first message is in hand")

    await asyncio.wait_for(broker.stop(), timeout=5)

    assert [p["sku"] for p in slow.payloads] == ["0"], "the message in hand was finished"
    assert broker.queue_depth("q") == 2, "the others wait for the next consumer"
    successor = Recorder()
    await broker.subscribe("ItemAdded", successor, queue_name="q")
    await broker.drain()
    await broker.stop()
    assert [p["sku"] for p in successor.payloads] == ["1", "2"]


async def test_unsubscribing_one_member_leaves_the_group_consuming() -> None:
    broker = InMemoryBroker()
    leaving, staying = Recorder(), Recorder()
    await broker.subscribe("ItemAdded", leaving, queue_name="q")
    await broker.subscribe("ItemAdded", staying, queue_name="q")

    await broker.unsubscribe("ItemAdded", leaving, queue_name="q")
    for i in range(10):
        await broker.publish("ItemAdded", ItemAdded(sku=str(i)))
    await broker.drain()
    await broker.stop()

    assert leaving.payloads == []
    assert len(staying.payloads) == 10


async def test_message_ids_and_story_ids_travel_with_the_message() -> None:
    broker = InMemoryBroker()
    await broker.subscribe("ItemAdded", Recorder(), queue_name="q")
    await broker.publish(
        "ItemAdded",
        {"event_type": "ItemAdded", "sku": "a"},
        message_id="m-1",
        correlation_id="c-1",
        causation_id="k-1",
    )
    await broker.drain()
    await broker.stop()
    [envelope] = broker.published
    assert (envelope.message_id, envelope.correlation_id, envelope.causation_id) == (
        "m-1",
        "c-1",
        "k-1",
    )
    assert Counter(e.topic for e in broker.published) == Counter({"ItemAdded": 1})
