"""Ordering's consumer: billing's payment results in, steps of the payment process out, once.

What to notice: the consumer hydrates messages through ordering's *own* `EventTypeRegistry`
(application/integration_events.py) - no class is shared with billing - and opens one unit of
work per message. `OrderPaymentProcess` handles each result in it: its command runs nested,
so the order's change, the cancelled deadline, its outbox rows and the inbox record of the
message commit together: a redelivered message is acknowledged with no effect.
Scenarios: features/cross_context/order_payment.feature, payment_deadline.feature.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable

from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.messaging import IMessageConsumer
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from ordering_service.application.integration_events import (
    PaymentCaptured,
    PaymentFailed,
    integration_event_registry,
)
from ordering_service.application.payment_process import OrderPaymentProcess

# --8<-- [start:consumer]
QUEUE_NAME = "ordering.payments"
"""One queue for every replica of ordering: they compete for the messages."""
TOPICS = ("PaymentCaptured", "PaymentFailed")


def payment_results_consumer(
    broker: IMessageConsumer,
    bus: ICommandBus,
    *,
    uow_factory: Callable[[], UnitOfWork],
    inbox: IInboxStorage,
    process: OrderPaymentProcess | None = None,
) -> BaseEventConsumer:
    """The consumer of billing's payment results, handing each to the payment process.

    ``process`` defaults to one with deadlines in this process (tests of the consumer alone).
    """
    if process is None:
        process = OrderPaymentProcess(bus, InMemoryDeadlineStorage())
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(PaymentCaptured, process)
    dispatcher.register(PaymentFailed, process)
    return BaseEventConsumer(
        broker=broker,
        topics=TOPICS,
        dispatcher=dispatcher,
        registry=integration_event_registry(),
        queue_name=QUEUE_NAME,
        inbox=inbox,
        consumer_name=QUEUE_NAME,
        uow_factory=uow_factory,
        # Ordering takes no resource locks, so nothing can wait for one while this message's
        # transaction holds the database: the duplicate check is that transaction's first read.
        check_inbox_inside=True,
    )
    # --8<-- [end:consumer]
