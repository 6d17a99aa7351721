"""The services' fault seams: untouched unless a test fills them, and then wrapping what breaks.

The composition roots take the seams the suite needs as ordinary parameters - `RelayOptions`
for the outbox relay, ``payment_bus`` for billing's payment policy - with the production
objects as defaults. Unfilled, the relay publishes through the broker itself with the standard
lease: a deployment pays nothing for the suite. Filled, the wrapper stands exactly where the
fault must happen, which is what the crash tests of this suite rely on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing_service import bootstrap as billing
from billing_service.application.commands import OpenAccountCommand, PayInvoiceCommand
from billing_service.application.integration_events import OrderCreated
from cqrs_ddd_core.adapters.host.plumbing import RelayOptions
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from ordering_service import bootstrap as ordering
from tests.reliability.faults import FaultyPaymentBus, KillAfterPublish

pytestmark = pytest.mark.reliability


class RecordingBus(ICommandBus):
    """Passes every message on to ``bus`` and remembers its type."""

    def __init__(self, bus: ICommandBus) -> None:
        self.bus = bus
        self.sent: list[str] = []

    async def send(self, message: Any) -> Any:
        self.sent.append(type(message).__name__)
        return await self.bus.send(message)


def test_unfilled_the_relay_publishes_through_the_broker_itself_with_the_standard_lease() -> None:
    broker = InMemoryBroker()
    service = ordering.build(ordering.OrderingSettings(database_url="memory"), broker=broker)
    assert service.outbox.service.publisher is broker
    assert service.outbox.service.lease_seconds == RelayOptions().lease_seconds


def test_filled_the_relay_publishes_through_the_wrapper_with_the_given_lease() -> None:
    broker = InMemoryBroker()
    wrappers: list[IMessagePublisher] = []

    def kill_after_three(publisher: IMessagePublisher) -> IMessagePublisher:
        wrappers.append(KillAfterPublish(publisher, 3))
        return wrappers[-1]

    relay = RelayOptions(wrap_publisher=kill_after_three, lease_seconds=2.0)
    service = ordering.build(
        ordering.OrderingSettings(database_url="memory"), broker=broker, relay=relay
    )
    [wrapper] = wrappers
    assert service.outbox.service.publisher is wrapper
    assert service.outbox.service.lease_seconds == 2.0


async def test_filled_the_payment_bus_stands_between_the_payment_policy_and_the_mediator() -> None:
    broker = InMemoryBroker()
    buses: list[RecordingBus] = []

    def recording(bus: ICommandBus) -> ICommandBus:
        buses.append(RecordingBus(FaultyPaymentBus(bus)))
        return buses[-1]

    settings = billing.BillingSettings(database_url="memory")
    service = billing.build(settings, broker=broker, payment_bus=recording)
    await service.start()
    try:
        await service.mediator.send(OpenAccountCommand(account_id="ada", balance=Decimal(50)))
        order = OrderCreated(aggregate_id="o1", order_id="o1", customer_id="ada", total=10)
        await broker.publish("OrderCreated", order, message_id=order.event_id)
        await broker.drain(timeout=10)
    finally:
        await service.stop()
        await broker.stop()
    [bus] = buses
    assert bus.sent == [PayInvoiceCommand.__name__]
