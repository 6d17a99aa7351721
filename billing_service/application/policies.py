"""Policies: what billing does with ordering's messages.

Each is an event handler that only translates - an integration event in, one command out:
`OrderCreated` -> `PayInvoiceCommand` (paid to the merchant account it was configured with),
`OrderCancelled` -> `RecordOrderCancelledCommand`, `RefundRequested` -> `RefundPaymentCommand`.
Scenarios: features/billing/payments.feature, features/cross_context/order_payment.feature,
features/cross_context/payment_deadline.feature. Guide: docs/components/consumers.md.
"""

from __future__ import annotations

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
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError


class PayInvoiceOnOrderCreated:
    def __init__(self, bus: ICommandBus, merchant_account: str) -> None:
        self._bus = bus
        self._merchant_account = merchant_account

    async def handle(self, event: OrderCreated) -> None:
        try:
            command = PayInvoiceCommand(
                order_id=event.order_id,
                customer_id=event.customer_id,
                amount=event.total,
                merchant_account=self._merchant_account,
            )
        except ValidationError as invalid:
            # An order billing can never pay (say, a total of zero): retrying cannot help, so
            # the message goes straight to the dead letters with the reason.
            raise PoisonMessageError(
                f"OrderCreated {event.order_id} cannot be invoiced: {invalid.errors()[0]['msg']}",
                message_id=event.event_id,
            ) from invalid
        await self._bus.send(command)


class RecordCancellationOnOrderCancelled:
    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, event: OrderCancelled) -> None:
        await self._bus.send(
            RecordOrderCancelledCommand(
                order_id=event.order_id, customer_id=event.customer_id, reason=event.reason
            )
        )


class RefundOnRefundRequested:
    def __init__(self, bus: ICommandBus, merchant_account: str) -> None:
        self._bus = bus
        self._merchant_account = merchant_account

    async def handle(self, event: RefundRequested) -> None:
        await self._bus.send(
            RefundPaymentCommand(
                order_id=event.order_id,
                customer_id=event.customer_id,
                merchant_account=self._merchant_account,
            )
        )
