"""`DeadlineDeployment`: the embedded pair, with the knobs the payment-deadline scenarios turn.

Built like `EmbeddedDeployment` (both services by their own ``bootstrap.build`` on one
`InMemoryBroker`), with three differences the scenarios of payment_deadline.feature need:

* ordering keeps its orders and deadlines in a SQLite file, so it can be stopped and started
  again, and run as two replicas on one database;
* ordering's clock is an `OffsetClock`: "31 seconds pass" moves it, wakes the schedulers and
  waits until each has looked again (`DeadlineScheduler.rounds`);
* billing "is down" while its consumers are stopped: its queues keep what arrives, and each
  queue can come back on its own - which is how a scenario chooses who wins the race between
  a late `OrderCreated` and the `OrderCancelled` that followed it.

How often a deadline fired is read from the schedulers' log ("deadline order-payment/<id>
fired"), the same line an operator would grep for. Scenarios:
features/cross_context/payment_deadline.feature.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from billing_service import bootstrap as billing_bootstrap
from billing_service.consumers import CANCELLATIONS_QUEUE
from billing_service.consumers import QUEUE_NAME as ORDERS_QUEUE
from billing_service.infrastructure.memory import BillingInMemoryUnitOfWork
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.deadlines import scheduler as scheduler_module
from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.payment_process import PAYMENT_DEADLINE
from tests.bdd.cross_context.deployment import PlacedOrder
from tests.bdd.cross_context.embedded import EmbeddedDeployment
from tests.messaging.support import OffsetClock

PAYMENT_TIMEOUT = 30.0
QUEUES = {"orders": ORDERS_QUEUE, "cancellations": CANCELLATIONS_QUEUE}


class FiringLog(logging.Handler):
    """Counts the "deadline <name>/<key> fired" lines of every scheduler in this process."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.fired: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "deadline %s/%s fired" and record.args:
            name, key = record.args  # type: ignore[misc]
            if name == PAYMENT_DEADLINE:
                self.fired.append(str(key))


class DeadlineDeployment(EmbeddedDeployment):
    def __init__(
        self,
        broker: InMemoryBroker,
        ordering: ServiceHost,
        billing: ServiceHost,
        *,
        clock: OffsetClock,
        settings: ordering_bootstrap.OrderingSettings,
        firing_log: FiringLog,
    ) -> None:
        super().__init__(broker, ordering, billing)
        self.orderings = [ordering]
        self.clock = clock
        self.settings = settings
        self.firing_log = firing_log

    @classmethod
    async def start_on(cls, workdir: Path) -> DeadlineDeployment:
        broker = InMemoryBroker(redelivery_delay=0.01)
        clock = OffsetClock()
        settings = ordering_bootstrap.OrderingSettings(
            database_url=f"sqlite+aiosqlite:///{workdir / 'ordering.db'}",
            outbox_poll_interval=0.05,
            payment_timeout_seconds=PAYMENT_TIMEOUT,
            deadline_poll_interval=0.05,
        )
        billing = billing_bootstrap.build(
            billing_bootstrap.BillingSettings(database_url="memory", outbox_poll_interval=0.05),
            broker=broker,
        )
        await billing.start()
        firing_log = FiringLog()
        scheduler_logger = logging.getLogger(scheduler_module.__name__)
        scheduler_logger.addHandler(firing_log)
        scheduler_logger.setLevel(logging.INFO)
        deployment = cls(
            broker,
            await _ordering(settings, broker, clock),
            billing,
            clock=clock,
            settings=settings,
            firing_log=firing_log,
        )
        return deployment

    async def stop(self) -> None:
        logging.getLogger(scheduler_module.__name__).removeHandler(self.firing_log)
        for ordering in self.orderings:
            await ordering.stop()
        await self.billing.stop()
        await self.broker.stop()

    # --- time and replicas ---------------------------------------------------------------

    async def deadline_passes(self) -> None:
        """Move ordering's clock past the payment timeout, wake the schedulers and wait until
        each has finished a round that began after the move: whatever fell due has fired by
        then, so a later "never fired" is a finding, not an early read."""
        schedulers = [_scheduler(ordering) for ordering in self.orderings]
        before = [scheduler.rounds for scheduler in schedulers]
        self.clock.advance(PAYMENT_TIMEOUT + 1)
        for scheduler in schedulers:
            scheduler.wake()

        async def looked_since() -> bool:
            # The round in flight when the clock moved may have claimed before it: one more.
            return all(s.rounds >= r + 2 for s, r in zip(schedulers, before, strict=True))

        await until(looked_since, self.patience)

    async def stop_ordering(self) -> None:
        for ordering in self.orderings:
            await ordering.stop()
        self.orderings = []

    async def second_replica(self) -> None:
        await self.start_ordering()

    async def place_order_through(
        self, replica: int, customer_id: str, items: list[dict[str, Any]]
    ) -> PlacedOrder:
        """Place an order through ordering replica number ``replica`` (modulo the replicas)."""
        self.ordering = self.orderings[replica % len(self.orderings)]
        try:
            return await self.place_order(customer_id, items)
        finally:
            self.ordering = self.orderings[0]

    async def start_ordering(self) -> None:
        """A new ordering process on the same database (and broker, and clock)."""
        ordering = await _ordering(self.settings, self.broker, self.clock)
        self.orderings.append(ordering)
        self.ordering = self.orderings[0]

    async def deadline_statuses(self, order_id: str) -> list[str]:
        deadlines = await _scheduler(self.ordering).storage.find(PAYMENT_DEADLINE, order_id)
        return [deadline.status.value for deadline in deadlines]

    def firings(self, order_id: str) -> int:
        return self.firing_log.fired.count(order_id)

    # --- billing, down and back ----------------------------------------------------------

    async def billing_down(self) -> None:
        for consumer in self.billing.consumers:
            await consumer.stop()

    async def billing_consumes(self, queue: str) -> BaseEventConsumer:
        """Start billing's consumer of ``queue`` ("orders" or "cancellations") again."""
        [consumer] = [c for c in self.billing.consumers if c.queue_name == QUEUES[queue]]
        await consumer.start()
        return consumer

    async def billing_back_cancellation_first(self, order_id: str) -> None:
        """Billing's cancellations queue comes back first; its new orders once it is done."""
        await self.billing_consumes("cancellations")
        await until(lambda: self.cancellation_recorded(order_id), self.patience)
        orders = await self.billing_consumes("orders")
        await until(lambda: _true(orders.processed >= 1), self.patience)

    async def billing_back_order_first(self, order_id: str) -> None:
        """Billing's new orders come back first; its cancellations once it charged the order."""
        await self.billing_consumes("orders")
        await until(lambda: self.charged(order_id), self.patience)
        await self.billing_consumes("cancellations")

    async def charged(self, order_id: str) -> bool:
        """Billing charged the order (the refund may follow at once: PAID or REFUNDED)."""
        statuses = [i["status"] for i in await self.invoices(order_id)]
        return statuses in (["PAID"], ["REFUNDED"])

    async def cancellation_recorded(self, order_id: str) -> bool:
        uow = self.billing.storage.uow_factory()
        assert isinstance(uow, BillingInMemoryUnitOfWork), uow
        async with uow:
            return await uow.cancelled_orders.find(order_id) is not None


async def _ordering(
    settings: ordering_bootstrap.OrderingSettings, broker: InMemoryBroker, clock: OffsetClock
) -> ServiceHost:
    ordering = ordering_bootstrap.build(settings, broker=broker, clock=clock)
    await ordering.start()
    return ordering


async def _true(value: bool) -> bool:
    return value


async def until(check: Callable[[], Awaitable[bool]], patience: float) -> None:
    """Poll ``check`` until it holds; `TimeoutError` after ``patience`` seconds."""
    async with asyncio.timeout(patience):
        while not await check():  # noqa: ASYNC110 - the state lives in the services
            await asyncio.sleep(0.01)


def _scheduler(ordering: ServiceHost) -> DeadlineScheduler:
    [scheduler] = [w for w in ordering.workers if isinstance(w, DeadlineScheduler)]
    return scheduler
