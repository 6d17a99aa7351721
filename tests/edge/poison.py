"""Messages no retry can cure, as one table, and the consumer both broker tests run them through.

Each probe is what the issue's attacker sent on the broker side: a body too deep to decode,
an ``event_id`` with a NUL or 1000 characters long, an id no account could have, and a value
the database refused as data. Every one must be dead-lettered at its first delivery, with its
reason, and never reach the handler twice. `tests/rabbitmq/test_poison_messages.py` and
`tests/messaging/test_poison_messages.py` run them against each broker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import DataError

from billing_service.application.integration_events import (
    OrderCreated,
    integration_event_registry,
)
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.ports.messaging import IMessageConsumer

TOPIC = "OrderCreated"


def order_created(**fields: Any) -> dict[str, Any]:
    """A valid ``OrderCreated`` payload, with ``fields`` changed."""
    payload: dict[str, Any] = {
        "event_type": TOPIC,
        "event_id": "evt-1",
        "order_id": "order-1",
        "customer_id": "alice",
        "total": "10.00",
    }
    return {**payload, **fields}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass(frozen=True)
class PoisonProbe:
    name: str
    body: bytes
    reason: str
    """A fragment of the dead letter's reason."""


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


PROBES = [
    PoisonProbe(
        "nested 100000 deep",
        ('{"event_type":"OrderCreated","x":' + nested(100_000) + "}").encode(),
        "too deep",
    ),
    PoisonProbe("event_id with a NUL", body(order_created(event_id="evt\x00")), "event_id"),
    PoisonProbe(
        "event_id of 1000 characters", body(order_created(event_id="e" * 1000)), "event_id"
    ),
    PoisonProbe(
        "customer_id with a newline", body(order_created(customer_id="a\nb")), "customer_id"
    ),
    PoisonProbe(
        "a value the database refuses",
        body(order_created(order_id="refused-by-the-database")),
        "value too long",
    ),
]


class RecordingConsumer:
    """Billing's model of ``OrderCreated`` behind a real `BaseEventConsumer`; the handler
    fails as a database would for the order id ``refused-by-the-database``."""

    def __init__(self, broker: IMessageConsumer, queue_name: str) -> None:
        self.handled: list[OrderCreated] = []
        dispatcher: EventDispatcher[OrderCreated] = EventDispatcher()
        dispatcher.register(OrderCreated, self._handle)
        self.consumer = BaseEventConsumer(
            broker,
            [TOPIC],
            dispatcher=dispatcher,
            registry=integration_event_registry(),
            queue_name=queue_name,
        )

    async def _handle(self, event: OrderCreated) -> None:
        self.handled.append(event)
        if event.order_id == "refused-by-the-database":
            orig = Exception("value too long for type character varying(64)")
            raise DataError("INSERT INTO invoices ...", {}, orig)
        assert event.total == Decimal("10.00")
