"""BaseEventConsumer: a failed start can be retried, and messages without an id are refused."""

from __future__ import annotations

from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.ports.messaging import MessageHandler
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError
from tests.messaging.support import ItemAdded


class FlakyBroker(InMemoryBroker):
    """Refuses the second subscription once: a broker that is not quite up yet."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 1
        self.subscriptions = 0

    async def subscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None, **kwargs: Any
    ) -> None:
        self.subscriptions += 1
        if self.subscriptions == 2 and self.refusals:
            self.refusals -= 1
            raise ConnectionError("broker not up yet")
        await super().subscribe(topic, handler, queue_name, **kwargs)


def _registry() -> EventTypeRegistry:
    registry = EventTypeRegistry()
    registry.register("ItemAdded", ItemAdded)
    return registry


async def test_a_start_that_failed_halfway_can_be_retried() -> None:
    broker = FlakyBroker()
    seen: list[str] = []

    async def on_item(event: ItemAdded) -> None:
        seen.append(event.sku)

    dispatcher: EventDispatcher[ItemAdded] = EventDispatcher()
    dispatcher.register(ItemAdded, on_item)
    consumer = BaseEventConsumer(
        broker=broker,
        topics=["ItemAdded", "ItemRemoved"],
        dispatcher=dispatcher,
        registry=_registry(),
        queue_name="items",
    )
    with pytest.raises(ConnectionError):
        await consumer.start()
    await consumer.start()
    await broker.publish("ItemAdded", ItemAdded(sku="a").to_payload())
    await broker.drain(timeout=5)
    await consumer.stop()
    await broker.stop()

    assert seen == ["a"]


def test_with_an_inbox_a_message_without_event_id_is_poison() -> None:
    consumer = BaseEventConsumer(
        broker=InMemoryBroker(),
        topics=["ItemAdded"],
        dispatcher=EventDispatcher(),
        registry=_registry(),
        queue_name="items",
        inbox=InMemoryInboxStorage(InMemoryStore()),
        uow_factory=InMemoryUnitOfWork,
    )
    with pytest.raises(PoisonMessageError, match="no 'event_id'"):
        consumer.hydrate({"event_type": "ItemAdded", "sku": "a"})
