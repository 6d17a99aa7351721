"""Test-only fault switches of billing: off by default, no cost when off.

The reliability suite (tests/reliability/) starts billing as an OS process with one of these
environment variables set, to make a failure happen exactly where it wants it. Unset - as in
every deployment - `payment_bus` returns the mediator itself: nothing is wrapped.

``FAULT_PAYMENT_DELAY=<seconds>``
    Billing holds each payment that long inside the message's unit of work (after the inbox
    check, before the invoice is paid), logging ``FAULT_PAYMENT_DELAY holds order <id>``
    first, so a test can kill the process while a message is mid-handling.
``FAULT_CHARGE_TWICE=1``
    Billing charges the customer a second time after paying an invoice (a transfer with no
    invoice), as a consumer with no idempotency would when an `OrderCreated` is redelivered.
    It proves that the suite's invariant check catches a double charge.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

from billing_service.application.commands import PayInvoiceCommand, TransferFundsCommand
from cqrs_ddd_core.ports.bus import ICommandBus

logger = logging.getLogger(__name__)


def payment_bus(bus: ICommandBus, env: Mapping[str, str] | None = None) -> ICommandBus:
    """The bus billing's payment policy sends through: ``bus`` itself unless a fault is set."""
    env = os.environ if env is None else env
    delay = float(env.get("FAULT_PAYMENT_DELAY", "0"))
    charge_twice = env.get("FAULT_CHARGE_TWICE") == "1"
    if not delay and not charge_twice:
        return bus
    logger.warning("test-only faults on: payment delay %ss, charge twice %s", delay, charge_twice)
    return _FaultyPaymentBus(bus, delay=delay, charge_twice=charge_twice)


class _FaultyPaymentBus(ICommandBus):
    def __init__(self, bus: ICommandBus, *, delay: float, charge_twice: bool) -> None:
        self._bus = bus
        self._delay = delay
        self._charge_twice = charge_twice

    async def send(self, message: Any) -> Any:
        if not isinstance(message, PayInvoiceCommand):
            return await self._bus.send(message)
        if self._delay:
            logger.warning("FAULT_PAYMENT_DELAY holds order %s", message.order_id)
            await asyncio.sleep(self._delay)
        response = await self._bus.send(message)
        if self._charge_twice:
            again = TransferFundsCommand(
                from_account=message.customer_id,
                to_account=message.merchant_account,
                amount=message.amount,
            )
            await self._bus.send(again)
        return response
