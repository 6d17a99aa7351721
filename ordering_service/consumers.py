"""Ordering's consumer: billing's payment results in, order commands out - each message once.

What to notice: the consumer hydrates messages through ordering's *own* `EventTypeRegistry`
(application/integration_events.py) - no class is shared with billing - and opens one unit of
work per message. The policy's command runs nested in it, so the order's change, its outbox
rows and the inbox record of the message commit together: a redelivered message is
acknowledged with no effect. Scenario: features/cross_context/order_payment.feature.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable

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
from ordering_service.application.policies import (
    CancelOrderOnPaymentFailed,
    ConfirmOrderOnPaymentCaptured,
)

QUEUE_NAME = "ordering.payments"
"""One queue for every replica of ordering: they compete for the messages."""
TOPICS = ("PaymentCaptured", "PaymentFailed")


def payment_results_consumer(
    broker: IMessageConsumer,
    bus: ICommandBus,
    *,
    uow_factory: Callable[[], UnitOfWork],
    inbox: IInboxStorage,
) -> BaseEventConsumer:
    """The consumer of billing's payment results, handing each to its policy."""
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(PaymentCaptured, ConfirmOrderOnPaymentCaptured(bus))
    dispatcher.register(PaymentFailed, CancelOrderOnPaymentFailed(bus))
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
