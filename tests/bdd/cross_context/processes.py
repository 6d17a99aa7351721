"""`ProcessesDeployment`: ordering and billing as separate OS processes over the real RabbitMQ.

The services run as they are deployed (deploy/cluster.py: ``python -m ordering_service`` and
``python -m billing_service``, a SQLite file each) on a RabbitMQ virtual host of their own,
and the scenarios reach them only as a client and an operator could:

* over HTTP (httpx) - ``POST /accounts``, ``POST /orders``, ``GET /orders/{id}``,
  ``GET /invoices?order_id=``, ``GET /accounts/{id}``, ``GET /notifications``;
* on the broker - a queue of the scenarios' own, bound to ``#`` on the services' exchange
  before they start, sees a copy of every message they publish, with its AMQP properties;
  re-publishing one of those copies is the broker delivering it again;
* in billing's log, which reports each duplicate it acknowledged without effect.

The one thing to notice: the processes outlive a scenario (`running_services` is started once
per test module), while everything tied to an event loop - HTTP clients, AMQP connections -
is opened and closed inside each call, on the scenario's own loop. Scenarios stay independent
by using account ids of their own. Scenarios: features/cross_context/order_payment.feature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage

from billing_service.bootstrap import BillingSettings
from deploy.cluster import Cluster
from ordering_service.bootstrap import OrderingSettings
from tests.bdd.cross_context.deployment import Carried, PlacedOrder
from tests.isolation import own_vhost, require_vhosts
from tests.reliability.invariants import read_all_dead_letters
from tests.tokens import TEST_AUTH_SECRET, auth_headers

CAPTURE_QUEUE = "cross-context.observer"
"""Bound to every topic: the broker hands it a copy of each message the services publish."""
HTTP_TIMEOUT = 10.0
AMQP_TIMEOUT = 10.0
START_TIMEOUT = 60.0
DUPLICATE_LOGGED = "acknowledged without effect"
"""What billing's consumer logs, with the event id, for a message it had processed already."""
LOG_TAIL = 40


def services_exchange() -> str:
    """The topic exchange both services publish to and consume from (their settings)."""
    ordering, billing = OrderingSettings().exchange_name, BillingSettings().exchange_name
    assert ordering == billing, f"ordering uses exchange {ordering!r}, billing {billing!r}"
    return ordering


class ProcessesDeployment:
    name = "processes"
    # The bound of every "eventually": a passing step returns at its first true poll; only a
    # failure waits this long, and OS processes on a busy 2-core machine can stall for long.
    patience = 60.0
    poll_interval = 0.05

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.amqp_url = cluster.amqp_url
        self.exchange = services_exchange()
        self.merchant_account = BillingSettings().merchant_account
        self._carried: list[Carried] = []

    # --- HTTP ----------------------------------------------------------------------------

    async def _call(
        self, service: str, method: str, path: str, *, expect: int = 200, **kwargs: Any
    ) -> Any:
        async with httpx.AsyncClient(
            base_url=self.cluster.url(service), timeout=HTTP_TIMEOUT, headers=auth_headers()
        ) as client:
            response = await client.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {service}{path}: {response.text}"
        return response.json()

    async def healthy(self) -> bool:
        if not all(process.is_running() for process in self.cluster.processes):
            return False
        for service in ("ordering", "billing"):
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
                response = await client.get(f"{self.cluster.url(service)}/health")
            if response.status_code != 200 or response.json()["status"] != "ok":
                return False
        return True

    async def open_account(self, account_id: str, balance: Decimal) -> None:
        body = {"account_id": account_id, "balance": str(balance)}
        await self._call("billing", "POST", "/accounts", expect=201, json=body)

    async def place_order(self, customer_id: str, items: list[dict[str, Any]]) -> PlacedOrder:
        body = {"customer_id": customer_id, "items": items}
        created = await self._call("ordering", "POST", "/orders", expect=201, json=body)
        return PlacedOrder(str(created["order_id"]), correlation_id=None)

    async def order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = await self._call("ordering", "GET", f"/orders/{order_id}")
        return order

    async def invoices(self, order_id: str) -> list[dict[str, Any]]:
        params = {"order_id": order_id}
        invoices: list[dict[str, Any]] = await self._call(
            "billing", "GET", "/invoices", params=params
        )
        return invoices

    async def balance(self, account_id: str) -> Decimal:
        account = await self._call("billing", "GET", f"/accounts/{account_id}")
        return Decimal(account["balance"])

    async def notifications(self, service: str) -> list[dict[str, Any]]:
        notifications: list[dict[str, Any]] = await self._call(service, "GET", "/notifications")
        return notifications

    # --- the broker ----------------------------------------------------------------------

    async def carried(self) -> list[Carried]:
        """Take what reached the observer queue since the last call; return all so far."""
        async with asyncio.timeout(AMQP_TIMEOUT):
            connection = await aio_pika.connect(self.amqp_url)
            async with connection:
                channel = await connection.channel()
                queue = await channel.declare_queue(CAPTURE_QUEUE, durable=True)
                while (message := await queue.get(no_ack=True, fail=False)) is not None:
                    self._carried.append(_carried(message))
        return list(self._carried)

    async def deliver_again(self, message: Carried) -> None:
        original = message.original
        assert isinstance(original, aio_pika.Message), original
        async with asyncio.timeout(AMQP_TIMEOUT):
            connection = await aio_pika.connect(self.amqp_url)
            async with connection:
                channel = await connection.channel(on_return_raises=True)
                exchange = await channel.declare_exchange(
                    self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
                )
                # Confirmed by the broker before this returns (confirms are on by default).
                await exchange.publish(original, routing_key=message.topic, mandatory=True)

    async def duplicates_acknowledged(self, message: Carried) -> int:
        event_id = str(message.payload["event_id"])  # billing's inbox key
        lines = _log(self.cluster, "billing").splitlines()
        return sum(1 for line in lines if DUPLICATE_LOGGED in line and event_id in line)

    async def dead_letters(self) -> list[str]:
        async with asyncio.timeout(AMQP_TIMEOUT):
            by_queue = await read_all_dead_letters(self.amqp_url)
        return [f"{queue}: {letter.reason}" for queue, ls in by_queue.items() for letter in ls]

    def diagnostics(self) -> str:
        tails = []
        for process in self.cluster.processes:
            tail = "\n".join(process.log_text().splitlines()[-LOG_TAIL:])
            tails.append(f"----- {process.name} (last {LOG_TAIL} lines) -----\n{tail}")
        return "\n".join(tails)


@contextmanager
def running_services(
    rabbitmq_url: str, workdir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """Billing and ordering as processes on a virtual host of their own, observed from the
    start; stopped gracefully (killed if they will not stop) and the vhost deleted on exit.
    ``extra_env`` reaches both processes (the observability scenarios' OTEL_* variables)."""
    require_vhosts("the cross-context scenarios over RabbitMQ")
    with own_vhost(rabbitmq_url, "cqrs-scenarios") as amqp_url:
        asyncio.run(_declare_observer(amqp_url, services_exchange()))
        cluster = Cluster.on_sqlite(
            workdir, amqp_url, TEST_AUTH_SECRET, extra_env=dict(extra_env or {})
        )
        cluster.add("billing")
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


async def _declare_observer(amqp_url: str, exchange_name: str) -> None:
    async with asyncio.timeout(AMQP_TIMEOUT):
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(CAPTURE_QUEUE, durable=True)
            await queue.bind(exchange, routing_key="#")


def _carried(message: AbstractIncomingMessage) -> Carried:
    # A copy that belongs to no channel: the same body, id and properties, ready to publish.
    copy = aio_pika.Message(
        message.body,
        headers=dict(message.headers or {}),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=message.delivery_mode,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
    )
    return Carried(
        topic=message.routing_key or "",
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        body=message.body,
        original=copy,
    )


def _log(cluster: Cluster, service: str) -> str:
    return "\n".join(process.log_text() for process in cluster.replicas(service))
