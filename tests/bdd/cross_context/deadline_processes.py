"""`ProcessesDeadlineDeployment`: the payment-deadline scenarios, services as processes.

`ProcessesDeployment` (processes.py) with what payment_deadline.feature needs, done only as an
operator or the network could:

* ordering runs with ``PAYMENT_TIMEOUT_SECONDS=4`` and two replicas on one SQLite file; "the
  payment deadline passes" waits those seconds - the one wait of these scenarios, short, and
  what it waits for is checked afterwards with patience, never assumed;
* billing is down while its process is stopped (SIGTERM; its durable queues keep what
  arrives) and back when it is started again; ordering restarts the same way;
* the race is decided by holding one message back: the scenario takes the order's
  ``OrderCreated`` (or ``OrderCancelled``) off billing's queue before billing starts, and
  publishes it again, unchanged, once billing has handled the other - a slow link, replayed;
* what the services keep to themselves - billing's cancelled orders, its inbox, ordering's
  deadline rows - is read from their databases, and a deadline's firings from ordering's logs
  ("deadline order-payment/<id> fired"), as the reliability suite does.

Scenarios: features/cross_context/payment_deadline.feature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from sqlalchemy import text

from billing_service.consumers import CANCELLATIONS_QUEUE
from billing_service.consumers import QUEUE_NAME as ORDERS_QUEUE
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only
from deploy.cluster import Cluster, ServiceProcess
from ordering_service.application.payment_process import PAYMENT_DEADLINE
from tests.bdd.cross_context.deployment import Carried, PlacedOrder
from tests.bdd.cross_context.processes import (
    AMQP_TIMEOUT,
    ProcessesDeployment,
    _carried,
    _declare_observer,
    services_exchange,
)
from tests.isolation import own_vhost, require_vhosts
from tests.tokens import TEST_AUTH_SECRET, auth_headers

PAYMENT_TIMEOUT = 4.0
ENV = {"PAYMENT_TIMEOUT_SECONDS": str(PAYMENT_TIMEOUT), "DEADLINE_POLL_INTERVAL": "0.2"}
"""What the processes of this feature run with (given to the cluster)."""
START_TIMEOUT = 60.0


class ProcessesDeadlineDeployment(ProcessesDeployment):
    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._held: Carried | None = None

    # --- time and replicas ---------------------------------------------------------------

    async def deadline_passes(self) -> None:
        await asyncio.sleep(PAYMENT_TIMEOUT + 0.5)

    async def second_replica(self) -> None:
        running = [p for p in self.cluster.replicas("ordering") if p.is_running()]
        assert len(running) == 2, f"{len(running)} ordering replicas run, not 2"

    async def place_order_through(
        self, replica: int, customer_id: str, items: list[dict[str, Any]]
    ) -> PlacedOrder:
        replicas = self.cluster.replicas("ordering")
        url = replicas[replica % len(replicas)].url
        body = {"customer_id": customer_id, "items": items}
        async with httpx.AsyncClient(timeout=10, headers=auth_headers()) as client:
            response = await client.post(f"{url}/orders", json=body)
        assert response.status_code == 201, response.text
        return PlacedOrder(str(response.json()["order_id"]), correlation_id=None)

    async def stop_ordering(self) -> None:
        for process in self.cluster.replicas("ordering"):
            await asyncio.to_thread(process.terminate)

    async def start_ordering(self) -> None:
        """Start the ordering replicas again - only them: billing may be down on purpose."""
        await asyncio.to_thread(_start, self.cluster.replicas("ordering"))

    async def deadline_statuses(self, order_id: str) -> list[str]:
        rows = await self._query(
            "ordering",
            "SELECT status FROM cqrs_deadlines WHERE name = :name AND deadline_key = :key",
            name=PAYMENT_DEADLINE,
            key=order_id,
        )
        return [str(row[0]) for row in rows]

    def firings(self, order_id: str) -> int:
        line = f"deadline {PAYMENT_DEADLINE}/{order_id} fired"
        logs = [p.log_text() for p in self.cluster.replicas("ordering")]
        return sum(log.count(line) for log in logs)

    # --- billing, down and back ----------------------------------------------------------

    async def billing_down(self) -> None:
        for process in self.cluster.replicas("billing"):
            await asyncio.to_thread(process.terminate)

    async def billing_back_cancellation_first(self, order_id: str) -> None:
        """Hold the order's OrderCreated back until billing has recorded the cancellation."""
        held = await self._take(ORDERS_QUEUE, "OrderCreated", order_id)
        await self.start_billing()
        await until(lambda: self.cancellation_recorded(order_id), self.patience)
        await self._put_back(held)
        event_id = str(held.payload["event_id"])
        await until(lambda: self._processed(ORDERS_QUEUE, event_id), self.patience)

    async def billing_back_order_first(self, order_id: str) -> None:
        """Hold the order's OrderCancelled back until billing has charged the order."""
        held = await self._take(CANCELLATIONS_QUEUE, "OrderCancelled", order_id)
        await self.start_billing()
        await until(lambda: self.charged(order_id), self.patience)
        await self._put_back(held)

    async def start_billing(self) -> None:
        await asyncio.to_thread(_start, self.cluster.replicas("billing"))

    async def charged(self, order_id: str) -> bool:
        """Billing charged the order (the refund may follow at once: PAID or REFUNDED)."""
        statuses = [i["status"] for i in await self.invoices(order_id)]
        return statuses in (["PAID"], ["REFUNDED"])

    async def cancellation_recorded(self, order_id: str) -> bool:
        rows = await self._query(
            "billing", "SELECT id FROM cancelled_orders WHERE id = :id", id=order_id
        )
        return len(rows) == 1

    async def ensure_running(self) -> None:
        """After a scenario: every process up again, whatever the scenario stopped."""
        await asyncio.to_thread(self.cluster.start, timeout=START_TIMEOUT)

    # --- helpers -------------------------------------------------------------------------

    async def _take(self, queue_name: str, event_type: str, order_id: str) -> Carried:
        """Take the message of ``order_id`` off ``queue_name`` (waiting for it to arrive)."""

        async def take() -> Carried | None:
            connection = await aio_pika.connect(self.amqp_url)
            async with connection:
                channel = await connection.channel()
                queue = await channel.get_queue(queue_name, ensure=False)
                others: list[aio_pika.abc.AbstractIncomingMessage] = []
                found = None
                while (message := await queue.get(no_ack=False, fail=False)) is not None:
                    carried = _carried(message)
                    payload = carried.payload
                    if (
                        payload.get("event_type") == event_type
                        and payload.get("order_id") == order_id
                    ):
                        found = carried
                        await message.ack()
                    else:
                        others.append(message)
                for other in others:
                    await other.nack(requeue=True)
                return found

        async with asyncio.timeout(self.patience):
            while (found := await take()) is None:  # noqa: ASYNC110 - polling a queue
                await asyncio.sleep(self.poll_interval)
        return found

    async def _put_back(self, message: Carried) -> None:
        async with asyncio.timeout(AMQP_TIMEOUT):
            await self.deliver_again(message)

    async def _processed(self, consumer: str, message_id: str) -> bool:
        rows = await self._query(
            "billing",
            "SELECT 1 FROM cqrs_inbox WHERE consumer = :consumer AND message_id = :id",
            consumer=consumer,
            id=message_id,
        )
        return len(rows) == 1

    async def _query(self, service: str, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.cluster.database_urls[service])
        try:
            async with read_only(engine).connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()


def _start(processes: list[ServiceProcess]) -> None:
    stopped = [p for p in processes if not p.is_running()]
    for process in stopped:
        process.start()
    for process in stopped:
        process.wait_healthy(START_TIMEOUT)


async def until(check: Callable[[], Awaitable[bool]], patience: float) -> None:
    async with asyncio.timeout(patience):
        while not await check():  # noqa: ASYNC110 - the state lives in the services
            await asyncio.sleep(0.05)


@contextmanager
def running_deadline_services(rabbitmq_url: str, workdir: Path) -> Iterator[Cluster]:
    """Billing and two ordering replicas, with a short payment deadline, observed from the start."""
    require_vhosts("the payment-deadline scenarios over RabbitMQ")
    with own_vhost(rabbitmq_url, "cqrs-deadlines") as amqp_url:
        asyncio.run(_declare_observer(amqp_url, services_exchange()))
        cluster = Cluster.on_sqlite(workdir, amqp_url, TEST_AUTH_SECRET, extra_env=dict(ENV))
        cluster.add("billing")
        cluster.add("ordering")
        cluster.add("ordering")
        try:
            cluster.start(timeout=START_TIMEOUT)
            yield cluster
        finally:
            try:
                cluster.stop()
            finally:
                for process in cluster.processes:
                    process.kill()
