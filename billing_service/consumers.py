"""Billing's consumer: ordering's `OrderCreated` in, an invoice paid (or failed) out, once.

What to notice: billing hydrates the message through its *own* model of `OrderCreated`
(application/integration_events.py), and opens one unit of work per message. The policy's
`PayInvoiceCommand` runs nested in it - and its `TransferFundsCommand` nested once more - so
the invoice, both balances, the outgoing `PaymentCaptured`/`PaymentFailed` outbox row and the
inbox record of the message commit together. Scenario: features/cross_context/order_payment.feature.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable

from billing_service.application.integration_events import (
    OrderCreated,
    integration_event_registry,
)
from billing_service.application.policies import PayInvoiceOnOrderCreated
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.messaging import IMessageConsumer
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

QUEUE_NAME = "billing.orders"
"""One queue for every replica of billing: they compete for the messages."""
TOPICS = ("OrderCreated",)


def orders_consumer(
    broker: IMessageConsumer,
    bus: ICommandBus,
    *,
    merchant_account: str,
    uow_factory: Callable[[], UnitOfWork],
    inbox: IInboxStorage,
) -> BaseEventConsumer:
    """The consumer of ordering's new orders, paying each order's invoice."""
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(OrderCreated, PayInvoiceOnOrderCreated(bus, merchant_account))
    return BaseEventConsumer(
        broker=broker,
        topics=TOPICS,
        dispatcher=dispatcher,
        registry=integration_event_registry(),
        queue_name=QUEUE_NAME,
        inbox=inbox,
        consumer_name=QUEUE_NAME,
        uow_factory=uow_factory,
    )
