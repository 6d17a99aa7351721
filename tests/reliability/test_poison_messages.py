"""Poison messages are dead-lettered with their reason, and the consumers keep going.

Messages no retry can cure are published straight onto the broker, onto the topics both
services consume: a body that is not JSON, a type nobody knows, fields that do not fit the
event. Each must land in its queue's dead-letter queue at once, saying why - and the orders
placed *after* them must still be settled, so a poison message never blocks its queue.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aio_pika
import pytest

from billing_service.consumers import QUEUE_NAME as BILLING_QUEUE
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import DeadLetter
from ordering_service.consumers import QUEUE_NAME as ORDERING_QUEUE
from tests.reliability.invariants import read_all_dead_letters
from tests.reliability.shop import (
    MakeCluster,
    open_accounts,
    place_orders,
    settle_and_check,
    workload,
)

pytestmark = [pytest.mark.reliability, pytest.mark.rabbitmq, pytest.mark.slow]

EXCHANGE = "events"


def event(event_type: str, **fields: Any) -> bytes:
    return json.dumps({"event_type": event_type, "event_id": str(uuid.uuid4()), **fields}).encode()


POISON: dict[str, list[tuple[str, str, bytes, str]]] = {
    # queue: (topic, type, body, what the reason must say)
    BILLING_QUEUE: [
        (
            "OrderCreated",
            "OrderCreated",
            b'{"event_type": "OrderCreated", "order_id": ',
            "not valid JSON",
        ),
        (
            "OrderCreated",
            "OrderTeleported",
            event("OrderTeleported", order_id="o-1"),
            "unknown event type",
        ),
        (
            "OrderCreated",
            "OrderCreated",
            event("OrderCreated", customer_id="c", total="lots"),
            "order_id, total",
        ),
        ("OrderCreated", "OrderCreated", b'["OrderCreated"]', "not an object"),
    ],
    ORDERING_QUEUE: [
        ("PaymentCaptured", "PaymentCaptured", b"\xff\xfe not even text", "not valid JSON"),
        (
            "PaymentFailed",
            "PaymentFailed",
            event("PaymentFailed", reason="no order id"),
            "order_id",
        ),
    ],
}


def test_poison_messages_are_dead_lettered_with_their_reason_and_later_orders_still_settle(
    vhost_url: str, make_cluster: MakeCluster
) -> None:
    shop = workload(orders=20, customers=4)
    cluster = make_cluster(vhost_url)
    cluster.add("billing")
    cluster.add("ordering")
    cluster.start()
    asyncio.run(open_accounts(cluster.url("billing"), shop.balances))

    sent = asyncio.run(publish_poison(vhost_url))
    asyncio.run(place_orders([cluster.url("ordering")], shop.orders))

    expected_count = sum(len(ids) for ids in sent.values())
    letters = wait_for_dead_letters(vhost_url, expected_count, timeout=30)
    settle_and_check(
        cluster,
        vhost_url,
        shop.opening_balances,
        expected_orders=len(shop.orders),
        timeout=60,
        poison={queue: set(ids) for queue, ids in sent.items()},
    )
    for queue, messages in POISON.items():
        for (_, _, _, why), message_id in zip(messages, sent[queue], strict=True):
            letter = letters[message_id]
            assert letter.poison, letter
            assert letter.queue == queue, letter
            assert why in letter.reason, letter.reason


async def publish_poison(amqp_url: str) -> dict[str, list[str]]:
    """Publish every poison message (persistent, confirmed); their ids per queue."""
    sent: dict[str, list[str]] = {}
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE)  # declared by the services
        for queue, messages in POISON.items():
            for topic, event_type, body, _ in messages:
                message_id = f"poison-{uuid.uuid4().hex[:12]}"
                message = aio_pika.Message(
                    body,
                    message_id=message_id,
                    type=event_type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                )
                await exchange.publish(message, routing_key=topic, mandatory=True)
                sent.setdefault(queue, []).append(message_id)
    finally:
        await connection.close()
    return sent


def wait_for_dead_letters(
    amqp_url: str, count: int, timeout: float
) -> dict[str | None, DeadLetter]:
    """Every dead letter by message id, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = asyncio.run(read_all_dead_letters(amqp_url))
        letters = {letter.message_id: letter for queue in found.values() for letter in queue}
        if len(letters) >= count:
            return letters
        assert time.monotonic() < deadline, f"only {len(letters)} of {count} dead letters"
        time.sleep(0.2)
