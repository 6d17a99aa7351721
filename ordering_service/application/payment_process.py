"""`OrderPaymentProcess`: the process manager that sees an order's payment through.

A choreography (order_payment.feature) only reacts: ordering publishes `OrderCreated` and
waits for billing's answer - forever, if billing never answers. A process manager owns the
waiting. It reacts to each message of one order's payment and decides the next step from the
state it keeps: the order itself (status, ``payment_id``) and one durable deadline beside it.

::

    OrderCreated              -> schedule the payment deadline (same transaction as the order)
    PaymentCaptured  PENDING  -> confirm, cancel the deadline
                     CANCELLED-> ask billing for a refund (RefundRequested), once
    PaymentFailed             -> cancel the order, cancel the deadline
    the deadline fires        -> cancel a still-PENDING order, "payment timed out"
                                 (OrderCancelled tells billing not to charge it)

The thing to notice: every change of state happens in the unit of work of the message that
caused it - the consumer's for billing's answers, the command's for `OrderCreated`, the
firing's own for the deadline - so a crash between two steps repeats a step, never half of
one; the order's transitions make a repeat harmless. The deadline is a row
(`IDeadlineStorage`), not an ``asyncio.sleep``: it survives restarts, costs nothing while it
waits, and fires in exactly one replica. Scenarios: features/cross_context/payment_deadline.feature.
Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.deadlines import Deadline, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now
from ordering_service.application.commands import (
    CancelOrderCommand,
    ExpirePaymentCommand,
    RecordPaymentCommand,
)
from ordering_service.application.integration_events import PaymentCaptured, PaymentFailed
from ordering_service.domain.events import OrderCreated

PAYMENT_DEADLINE = "order-payment"
"""The name of an order's payment deadline (its key is the order id)."""
DEFAULT_PAYMENT_TIMEOUT = 30.0


class OrderPaymentProcess:
    """Reacts to the messages of an order's payment; register it for each of `handles`."""

    handles: tuple[type[DomainEvent], ...] = (OrderCreated, PaymentCaptured, PaymentFailed)

    def __init__(
        self,
        bus: ICommandBus,
        deadlines: IDeadlineStorage,
        *,
        timeout_seconds: float = DEFAULT_PAYMENT_TIMEOUT,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._bus = bus
        self._deadlines = deadlines
        self._timeout = timeout_seconds
        self._clock = clock

    # --8<-- [start:handle]
    async def handle(self, event: DomainEvent) -> None:
        """One step of the process, in the unit of work of ``event``."""
        match event:
            case OrderCreated():
                await self._deadlines.schedule(self._payment_deadline(event))
            case PaymentCaptured():
                await self._bus.send(
                    RecordPaymentCommand(order_id=event.order_id, payment_id=event.payment_id)
                )
                await self._deadlines.cancel(PAYMENT_DEADLINE, event.order_id)
            case PaymentFailed():
                await self._bus.send(
                    CancelOrderCommand(order_id=event.order_id, reason=event.reason)
                )
                await self._deadlines.cancel(PAYMENT_DEADLINE, event.order_id)
            case _:
                raise TypeError(f"OrderPaymentProcess does not handle {event.type_name()}")

    async def deadline_passed(self, deadline: Deadline) -> None:
        """The deadline fired (the scheduler set the story's ids): cancel if still waiting."""
        timeout = float(deadline.payload.get("timeout_seconds", self._timeout))
        await self._bus.send(ExpirePaymentCommand(order_id=deadline.key, timeout_seconds=timeout))

    # --8<-- [end:handle]

    def scheduler(self, *, poll_interval: float, lease_seconds: float) -> DeadlineScheduler:
        """The worker that fires this process's due deadlines (one replica each)."""
        return DeadlineScheduler(
            self._deadlines,
            self.deadline_passed,
            poll_interval=poll_interval,
            lease_seconds=lease_seconds,
            clock=self._clock,
        )

    def _payment_deadline(self, event: OrderCreated) -> Deadline:
        return Deadline(
            name=PAYMENT_DEADLINE,
            key=event.order_id,
            due_at=self._clock() + timedelta(seconds=self._timeout),
            payload={"timeout_seconds": self._timeout},
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
        )
