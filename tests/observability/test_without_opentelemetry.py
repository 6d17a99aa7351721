"""The core runs without OpenTelemetry installed: its spans and metrics are no-ops then.

Checked in a child process where importing ``opentelemetry`` fails, as it does for a plain
install of the core: a command goes through the mediator, its event through the outbox, the
relay and a consumer (with an inbox) of the in-memory broker.
"""

from __future__ import annotations

import subprocess
import sys

WITHOUT_OPENTELEMETRY = """
import asyncio, sys
sys.modules["opentelemetry"] = None  # any "import opentelemetry..." now raises ImportError

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.pipeline import MiddlewareRegistry
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware

class Shipped(DomainEvent):
    parcel: str

class Ship(Command[str]):
    parcel: str

class ShipHandler:
    async def handle(self, command: Ship) -> CommandResponse[str]:
        return CommandResponse(result=command.parcel, events=[Shipped(parcel=command.parcel)])

async def main() -> None:
    store = InMemoryStore()
    broker = InMemoryBroker()
    outbox = BufferedOutbox(InMemoryOutboxStorage(), broker, wait_delay=0.001)
    registry = HandlerRegistry()
    registry.register_command_handler(Ship, ShipHandler())
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(outbox))
    mediator = Mediator(registry, lambda: InMemoryUnitOfWork(store), middleware_registry=middleware)
    received = []
    dispatcher = EventDispatcher()
    dispatcher.register(Shipped, _keep(received))
    consumer = BaseEventConsumer(
        broker, ["Shipped"], dispatcher, queue_name="q",
        inbox=InMemoryInboxStorage(store), uow_factory=lambda: InMemoryUnitOfWork(store),
    )
    consumer.registry.register("Shipped", Shipped)
    await consumer.start()
    await outbox.start()
    assert (await mediator.send(Ship(parcel="p-1"))).result == "p-1"
    async with asyncio.timeout(5):
        while not received:
            await asyncio.sleep(0.01)
    await outbox.stop()
    await broker.stop()
    assert [event.parcel for event in received] == ["p-1"]

def _keep(received):
    async def keep(event):
        received.append(event)
    return keep

asyncio.run(main())
assert not any(name.startswith("opentelemetry") and sys.modules[name] for name in sys.modules)
print("ok")
"""


def test_a_command_and_its_message_go_through_without_opentelemetry() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_OPENTELEMETRY],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
