"""The faults the reliability suite injects, as wrappers around what a service really wires.

The services know nothing of them: their composition roots take the seams as ordinary
parameters (`RelayOptions` for the outbox relay, ``payment_bus`` for billing's payment policy)
and `faulty_service` fills them, in a process the suite starts instead of
``python -m ordering_service`` when a test asks for a fault.

`KillAfterPublish`
    The outbox relay kills its own process (SIGKILL: no shutdown hook, nothing marked) right
    after the broker confirmed the *n*-th `OrderCreated` - published, its outbox row not yet
    marked published. The next relay publishes it again: a duplicate for billing's inbox to
    absorb. (Notifications are not counted: nothing deduplicates them.)
`FaultyPaymentBus`
    Holds each payment for a while inside the message's unit of work (after the inbox check,
    before the invoice is paid), logging `HOLDS` first, so a test can kill the process while a
    message is mid-handling; and/or holds it *after* paying, logging `HOLDS_LOCKS`: the
    invoice paid but not committed, the customer's account lock still held (it is
    released when the message's unit of work ends); and/or charges the customer a second time
    after paying, as a consumer with no idempotency would on a redelivered `OrderCreated`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

from billing_service.application.commands import PayInvoiceCommand, TransferFundsCommand
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.ports.messaging import IMessagePublisher

logger = logging.getLogger(__name__)

COUNTED_TOPIC = "OrderCreated"
KILLED_AFTER = "fault: the relay is killed after"
"""Printed with the message id the relay published and did not mark."""
HOLDS = "fault: payment delay holds order"
"""Logged with the order id whose payment is held."""
HOLDS_LOCKS = "fault: payment holds its locks for order"
"""Logged with the order id whose payment is held with its locks taken, not yet committed."""


class KillAfterPublish(IMessagePublisher):
    """Publishes through ``publisher``; SIGKILLs this process after the ``n``-th confirmed
    `OrderCreated`."""

    def __init__(self, publisher: IMessagePublisher, n: int) -> None:
        self._publisher = publisher
        self._kill_after = n
        self._confirmed = 0

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await self._publisher.publish(topic, message, **kwargs)
        if topic != COUNTED_TOPIC:
            return
        self._confirmed += 1
        if self._confirmed == self._kill_after:
            # print, not logging: the line must reach the log before the process vanishes.
            print(f"{KILLED_AFTER} {kwargs.get('message_id')}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


class FaultyPaymentBus(ICommandBus):
    """Sends through ``bus``; delays each `PayInvoiceCommand` (before it takes its locks, or
    after, holding them) and/or charges it twice."""

    def __init__(
        self,
        bus: ICommandBus,
        *,
        delay: float = 0.0,
        hold_locks: float = 0.0,
        charge_twice: bool = False,
    ) -> None:
        self._bus = bus
        self._delay = delay
        self._hold_locks = hold_locks
        self._charge_twice = charge_twice

    async def send(self, message: Any) -> Any:
        if not isinstance(message, PayInvoiceCommand):
            return await self._bus.send(message)
        if self._delay:
            logger.warning("%s %s", HOLDS, message.order_id)
            await asyncio.sleep(self._delay)
        response = await self._bus.send(message)
        if self._hold_locks:
            logger.warning("%s %s", HOLDS_LOCKS, message.order_id)
            await asyncio.sleep(self._hold_locks)
        if self._charge_twice:
            again = TransferFundsCommand(
                from_account=message.customer_id,
                to_account=message.merchant_account,
                amount=message.amount,
            )
            await self._bus.send(again)
        return response
