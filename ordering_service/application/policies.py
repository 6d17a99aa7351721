"""Policies: what ordering does when billing reports a payment result.

Each policy is an event handler that only translates - an integration event in, one command
out - so the decision stays in the command handler, and a redelivered event meets the
aggregate's idempotent transition. Scenarios: features/ordering/orders.feature,
features/cross_context/order_payment.feature. Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from cqrs_ddd_core.ports.bus import ICommandBus
from ordering_service.application.commands import CancelOrderCommand, ConfirmOrderCommand
from ordering_service.application.integration_events import PaymentCaptured, PaymentFailed


class ConfirmOrderOnPaymentCaptured:
    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, event: PaymentCaptured) -> None:
        await self._bus.send(
            ConfirmOrderCommand(order_id=event.order_id, payment_id=event.payment_id)
        )


class CancelOrderOnPaymentFailed:
    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, event: PaymentFailed) -> None:
        await self._bus.send(CancelOrderCommand(order_id=event.order_id, reason=event.reason))
