"""Policies: what billing does with ordering's messages.

Each is an event handler that only translates - an integration event in, one command out:
`OrderCreated` -> `PayInvoiceCommand` (paid to the merchant account it was configured with),
`OrderCancelled` -> `RecordOrderCancelledCommand`, `RefundRequested` -> `RefundPaymentCommand`.
Scenarios: features/billing/payments.feature, features/cross_context/order_payment.feature,
features/cross_context/payment_deadline.feature. Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from billing_service.application.commands import (
    PayInvoiceCommand,
    RecordOrderCancelledCommand,
    RefundPaymentCommand,
)
from billing_service.application.integration_events import (
    OrderCancelled,
    OrderCreated,
    RefundRequested,
)
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError

C = TypeVar("C")


def _build(event: DomainEvent, order_id: str, what: str, make: Callable[[], C]) -> C:
    """The command ``make`` builds from ``event``; a message no command can be built from is
    poison: retrying cannot help, so it goes straight to the dead letters with the reason."""
    try:
        return make()
    except ValidationError as invalid:
        raise PoisonMessageError(
            f"{event.type_name()} {order_id} {what}: {invalid.errors()[0]['msg']}",
            message_id=event.event_id,
        ) from invalid


class PayInvoiceOnOrderCreated:
    def __init__(self, bus: ICommandBus, merchant_account: str) -> None:
        self._bus = bus
        self._merchant_account = merchant_account

    async def handle(self, event: OrderCreated) -> None:
        # An order billing can never pay (say, a total of zero) is poison.
        command = _build(
            event,
            event.order_id,
            "cannot be invoiced",
            lambda: PayInvoiceCommand(
                order_id=event.order_id,
                customer_id=event.customer_id,
                amount=event.total,
                merchant_account=self._merchant_account,
            ),
        )
        await self._bus.send(command)


class RecordCancellationOnOrderCancelled:
    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, event: OrderCancelled) -> None:
        command = _build(
            event,
            event.order_id,
            "cannot be recorded as cancelled",
            lambda: RecordOrderCancelledCommand(
                order_id=event.order_id, customer_id=event.customer_id, reason=event.reason
            ),
        )
        await self._bus.send(command)


class RefundOnRefundRequested:
    def __init__(self, bus: ICommandBus, merchant_account: str) -> None:
        self._bus = bus
        self._merchant_account = merchant_account

    async def handle(self, event: RefundRequested) -> None:
        command = _build(
            event,
            event.order_id,
            "cannot be refunded",
            lambda: RefundPaymentCommand(
                order_id=event.order_id,
                customer_id=event.customer_id,
                merchant_account=self._merchant_account,
            ),
        )
        await self._bus.send(command)
