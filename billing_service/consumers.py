"""Billing's consumers: ordering's orders in, invoices paid (or failed, or refunded) out, once.

What to notice: billing hydrates the message through its *own* model of `OrderCreated`
(application/integration_events.py), and opens one unit of work per message. The policy's
`PayInvoiceCommand` runs nested in it - and its `TransferFundsCommand` nested once more - so
the invoice, both balances, the outgoing `PaymentCaptured`/`PaymentFailed` outbox row and the
inbox record of the message commit together.

A second consumer, on a queue of its own, handles what ordering's payment process says later:
`OrderCancelled` (never charge that order) and `RefundRequested` (give a late payment back).
A queue of its own, so a backlog of new orders never delays a cancellation, and so each can be
stopped and started apart (the scenarios replay the race in both orders).
Scenarios: features/cross_context/order_payment.feature, payment_deadline.feature.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable

from billing_service.application.integration_events import (
    OrderCancelled,
    OrderCreated,
    RefundRequested,
    integration_event_registry,
)
from billing_service.application.policies import (
    PayInvoiceOnOrderCreated,
    RecordCancellationOnOrderCancelled,
    RefundOnRefundRequested,
)
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
CANCELLATIONS_QUEUE = "billing.cancellations"
CANCELLATION_TOPICS = ("OrderCancelled", "RefundRequested")


def orders_consumer(
    broker: IMessageConsumer,
    bus: ICommandBus,
    *,
    merchant_account: str,
    uow_factory: Callable[[], UnitOfWork],
    inbox: IInboxStorage,
    check_inbox_inside: bool = False,
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
        check_inbox_inside=check_inbox_inside,
    )


def cancellations_consumer(
    broker: IMessageConsumer,
    bus: ICommandBus,
    *,
    merchant_account: str,
    uow_factory: Callable[[], UnitOfWork],
    inbox: IInboxStorage,
    check_inbox_inside: bool = False,
) -> BaseEventConsumer:
    """The consumer of ordering's cancellations and refund requests."""
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(OrderCancelled, RecordCancellationOnOrderCancelled(bus))
    dispatcher.register(RefundRequested, RefundOnRefundRequested(bus, merchant_account))
    return BaseEventConsumer(
        broker=broker,
        topics=CANCELLATION_TOPICS,
        dispatcher=dispatcher,
        registry=integration_event_registry(),
        queue_name=CANCELLATIONS_QUEUE,
        inbox=inbox,
        consumer_name=CANCELLATIONS_QUEUE,
        uow_factory=uow_factory,
        check_inbox_inside=check_inbox_inside,
    )
