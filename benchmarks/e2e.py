"""Benchmark: an order end to end - ``POST /orders`` to CONFIRMED - across two service processes.

Ordering and billing run as separate OS processes (`deploy/cluster.py`) on SQLite files in a
temporary directory and a real RabbitMQ (``AMQP_URL``, on a virtual host of its own that is
deleted afterwards). An order's path: ordering commits the order and its outbox row, its relay
publishes ``OrderCreated``; billing consumes it, pays the invoice (nested transfer, two account
locks) and publishes ``PaymentCaptured``; ordering consumes that and confirms the order.

The one thing to notice is the signal that stops the clock. Confirming commits an
``OrderConfirmed`` notification in the same transaction, and ordering's relay publishes it under
``notifications.OrderConfirmed`` right after the commit; this benchmark binds a queue of its
own to that topic. So there is no polling interval: the clock stops when the notification
arrives (``perf_counter``, sub-millisecond), which is *after* the order reads CONFIRMED by one
relay hop - also measured, from the event's ``occurred_at`` to its arrival, and reported.
Every order of the latency run is then read back with ``GET /orders/{id}``: it must be
CONFIRMED, or the run fails (the signal never runs ahead of the state it reports).

What is measured, next to the raw floor of the same path in the same run (an HTTP round trip
to ``GET /health/live``, which does no I/O, plus three raw aio-pika publish -> consume round
trips, persistent with confirms and manual acks: one per broker hop of the order's path):

* latency of sequential orders (one at a time, 200 after a warm-up): p50, p99, mean, max, and
  the CPU time each service spends per order when orders come one at a time;
* throughput of a concurrent burst (500 orders, 32 in flight): orders confirmed per second,
  and the CPU time each service spends per order;
* resident memory (RSS) of each service after start-up and every 500 orders up to 10,000
  (10,000 by default; ``E2E_ORDERS=2000`` for a quicker run).

Run: ``just bench`` or ``python -m benchmarks e2e``. Results page: docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import aio_pika
import httpx
import psutil
from aio_pika.abc import AbstractIncomingMessage

from benchmarks._report import print_rows
from benchmarks.rabbitmq import own_virtual_host
from deploy.cluster import Cluster
from deploy.tokens import issue

EXCHANGE = "events"
"""The services' topic exchange (their default ``exchange_name``)."""
WARMUP_ORDERS = 20
SEQUENTIAL_ORDERS = 200
BURST_ORDERS = 500
CONCURRENCY = 32
"""Requests in flight during the burst and the fill (the HTTP client's connection pool)."""
MEMORY_ORDERS = int(os.environ.get("E2E_ORDERS", "10000"))
"""Orders placed in all before the services' memory is read (warm-up, sequential, burst, fill).

10,000 by default, about five minutes here at ~30 orders/s; ``E2E_ORDERS=2000`` for a quicker
look. The memory is also sampled every `CHECKPOINT` orders, so the growth per order shows."""
CHECKPOINT = 500
CUSTOMERS = 64
"""Customer accounts the orders are spread over (the merchant account takes every payment)."""
FLOOR_HOPS = 3
"""Broker hops of the measured path: OrderCreated, PaymentCaptured, the OrderConfirmed notice."""
WAIT = 60.0
"""The longest any single order may take before the run fails (seconds)."""
SECRET = secrets.token_hex(32)
"""A secret of this run only: the services verify the shop's operator token with it."""
ITEMS = [
    {"sku": "BOOK-1", "quantity": 2, "unit_price": "12.50"},
    {"sku": "PEN-7", "quantity": 1, "unit_price": "3.20"},
]


class OrderNotConfirmedError(RuntimeError):
    """An order was cancelled, or its confirmation never arrived in time."""


@dataclass(frozen=True)
class Outcome:
    """How an order ended, seen from the notification that says so."""

    status: str
    arrived: float
    """`time.perf_counter()` when the notification reached this process."""
    relay_lag: float
    """Seconds from the event's ``occurred_at`` (in ordering) to its arrival here."""


class Confirmations:
    """A private queue bound to ordering's notifications: the exact "order confirmed" signal."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._outcomes: dict[str, Outcome] = {}
        self._waiting: dict[str, asyncio.Future[Outcome]] = {}
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel()
        exchange = await channel.get_exchange(EXCHANGE)  # declared by the services
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for topic in ("OrderConfirmed", "OrderCancelled"):
            await queue.bind(exchange, f"notifications.{topic}")
        await queue.consume(self._on_message, no_ack=True)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        arrived, now = time.perf_counter(), time.time()
        payload = json.loads(message.body)
        occurred = datetime.fromisoformat(payload["occurred_at"]).timestamp()
        status = "CONFIRMED" if payload["event_type"] == "OrderConfirmed" else "CANCELLED"
        outcome = Outcome(status, arrived, now - occurred)
        order_id = payload["order_id"]
        self._outcomes[order_id] = outcome
        waiter = self._waiting.pop(order_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    async def confirmed(self, order_id: str, timeout: float = WAIT) -> Outcome:
        """The order's confirmation (it may have arrived before we asked); fails otherwise."""
        outcome = self._outcomes.get(order_id)
        if outcome is None:
            waiter = self._waiting.setdefault(order_id, asyncio.get_running_loop().create_future())
            try:
                outcome = await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                raise OrderNotConfirmedError(
                    f"Order {order_id} not confirmed within {timeout}s; see the services' logs"
                ) from None
        if outcome.status != "CONFIRMED":
            raise OrderNotConfirmedError(
                f"Order {order_id} was {outcome.status}; the customers' balances must cover "
                f"every order"
            )
        return outcome


class RawHops:
    """The floor of one broker hop: raw aio-pika publish (persistent, confirmed) -> consume, ack.

    Publisher and consumer use separate connections, as two services do.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._name = f"bench-e2e-floor-{uuid.uuid4().hex[:8]}"
        self._arrivals: dict[str, asyncio.Future[None]] = {}
        self._connections: list[aio_pika.abc.AbstractConnection] = []
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self.trips: list[float] = []
        """Seconds each round trip took, publish to consume."""
        self._body = json.dumps({"order_id": "x" * 32, "items": ITEMS, "note": "y" * 300}).encode()

    async def start(self) -> None:
        consuming = await aio_pika.connect(self._url)
        publishing = await aio_pika.connect(self._url)
        self._connections = [consuming, publishing]
        channel = await consuming.channel()
        await channel.set_qos(prefetch_count=100)
        exchange = await channel.declare_exchange(
            self._name, aio_pika.ExchangeType.TOPIC, auto_delete=True
        )
        queue = await channel.declare_queue(self._name, durable=True, auto_delete=True)
        await queue.bind(exchange, "#")
        await queue.consume(self._on_message)
        publish_channel = await publishing.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await publish_channel.get_exchange(self._name)

    async def close(self) -> None:
        for connection in reversed(self._connections):
            await connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        json.loads(message.body)  # any consumer decodes what it receives
        await message.ack()
        arrival = self._arrivals.pop(message.message_id or "", None)
        if arrival is not None and not arrival.done():
            arrival.set_result(None)

    async def round_trip(self) -> None:
        assert self._exchange is not None, "call start() first"
        started = time.perf_counter()
        message_id = uuid.uuid4().hex
        arrival = asyncio.get_running_loop().create_future()
        self._arrivals[message_id] = arrival
        message = aio_pika.Message(
            self._body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        )
        await self._exchange.publish(message, "floor", timeout=WAIT)
        await asyncio.wait_for(arrival, WAIT)
        self.trips.append(time.perf_counter() - started)


class Shop:
    """The client side: customers with funded accounts placing orders over HTTP."""

    def __init__(self, cluster: Cluster, client: httpx.AsyncClient) -> None:
        self.ordering = cluster.url("ordering")
        self.billing = cluster.url("billing")
        self.client = client
        self.customers = [f"customer-{uuid.uuid4().hex[:6]}-{n}" for n in range(CUSTOMERS)]
        self._next_customer = itertools.cycle(self.customers)
        self.placed = 0

    async def open_accounts(self) -> None:
        for customer in self.customers:
            response = await self.client.post(
                f"{self.billing}/accounts", json={"account_id": customer, "balance": "1000000000"}
            )
            response.raise_for_status()

    async def place_order(self) -> str:
        body = {"customer_id": next(self._next_customer), "items": ITEMS}
        response = await self.client.post(f"{self.ordering}/orders", json=body)
        response.raise_for_status()
        self.placed += 1
        order_id: str = response.json()["order_id"]
        return order_id

    async def status(self, order_id: str) -> str:
        response = await self.client.get(f"{self.ordering}/orders/{order_id}")
        response.raise_for_status()
        status: str = response.json()["status"]
        return status

    async def health_round_trip(self) -> None:
        response = await self.client.get(f"{self.ordering}/health/live")
        response.raise_for_status()


# --- the measurements ----------------------------------------------------------------------


async def sequential_latencies(
    shop: Shop, confirmations: Confirmations, count: int
) -> tuple[list[float], list[float], list[str]]:
    """Seconds from POST to the confirmation, one order at a time; the relay lags; the ids."""
    latencies: list[float] = []
    lags: list[float] = []
    order_ids: list[str] = []
    for _ in range(count):
        started = time.perf_counter()
        order_id = await shop.place_order()
        outcome = await confirmations.confirmed(order_id)
        latencies.append(outcome.arrived - started)
        lags.append(outcome.relay_lag)
        order_ids.append(order_id)
    return latencies, lags, order_ids


async def floor_latencies(shop: Shop, hops: RawHops, count: int) -> list[float]:
    """The raw floor of the same path, one at a time: HTTP round trip + one raw trip per hop."""
    latencies: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await floor_once(shop, hops)
        latencies.append(time.perf_counter() - started)
    return latencies


async def floor_once(shop: Shop, hops: RawHops) -> None:
    await shop.health_round_trip()
    for _ in range(FLOOR_HOPS):
        await hops.round_trip()


async def burst(count: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> float:
    """Per second: ``count`` runs of ``one``, at most ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def gated() -> None:
        async with gate:
            await one()

    started = time.perf_counter()
    await asyncio.gather(*(gated() for _ in range(count)))
    return count / (time.perf_counter() - started)


class PlacesOrders(Protocol):
    async def place_order(self) -> str: ...


async def order_burst(shop: PlacesOrders, confirmations: Confirmations, count: int) -> float:
    """Orders confirmed per second: ``count`` orders placed ``CONCURRENCY`` at a time, the
    clock stopped by the last confirmation."""
    order_ids: list[str] = []

    async def place() -> None:
        order_ids.append(await shop.place_order())

    started = time.perf_counter()
    await burst(count, CONCURRENCY, place)
    outcomes = [await confirmations.confirmed(order_id) for order_id in order_ids]
    return count / (max(o.arrived for o in outcomes) - started)


def rss_mb(cluster: Cluster) -> dict[str, float]:
    """Resident memory of each service process, in MB."""
    return {
        process.service: _process(process.pid).memory_info().rss / 1e6
        for process in cluster.processes
    }


def cpu_seconds(cluster: Cluster) -> dict[str, float]:
    """CPU time (user + system) each service process has used so far."""
    times = {p.service: _process(p.pid).cpu_times() for p in cluster.processes}
    return {service: t.user + t.system for service, t in times.items()}


def _process(pid: int | None) -> psutil.Process:
    if pid is None:
        raise RuntimeError("a service process is not running; see its log in the cluster's workdir")
    return psutil.Process(pid)


@dataclass
class Figures:
    """What one run measured, before it becomes rows."""

    latencies: list[float]
    floor: list[float]
    relay_lags: list[float]
    raw_trips: list[float]
    orders_per_second: float
    floor_per_second: float
    cpu_ms_per_order: dict[str, float]
    sequential_cpu_ms_per_order: dict[str, float]
    memory: list[tuple[int, dict[str, float]]]
    """(orders placed so far, RSS per service in MB), from start-up to the last order."""


async def measure(cluster: Cluster, url: str) -> Figures:
    memory = [(0, rss_mb(cluster))]
    confirmations = Confirmations(url)
    hops = RawHops(url)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Authorization": f"Bearer {issue('bench', ['operator'], secret=SECRET)}"}
    async with httpx.AsyncClient(limits=limits, timeout=WAIT, headers=headers) as client:
        shop = Shop(cluster, client)
        await confirmations.start()
        await hops.start()
        try:
            await shop.open_accounts()
            await sequential_latencies(shop, confirmations, WARMUP_ORDERS)
            await floor_latencies(shop, hops, WARMUP_ORDERS)

            cpu_before = cpu_seconds(cluster)
            latencies, lags, order_ids = await sequential_latencies(
                shop, confirmations, SEQUENTIAL_ORDERS
            )
            sequential_cpu_ms = per_order_ms(cpu_before, cpu_seconds(cluster), SEQUENTIAL_ORDERS)
            hops.trips.clear()
            floor = await floor_latencies(shop, hops, SEQUENTIAL_ORDERS)
            raw_trips = list(hops.trips)
            # The signal must not run ahead of the state it reports.
            statuses = {await shop.status(order_id) for order_id in order_ids}
            if statuses != {"CONFIRMED"}:
                raise OrderNotConfirmedError(f"Notified orders read back as {statuses}")
            memory.append((shop.placed, rss_mb(cluster)))

            cpu_before = cpu_seconds(cluster)
            orders_per_second = await order_burst(shop, confirmations, BURST_ORDERS)
            cpu_after = cpu_seconds(cluster)
            memory.append((shop.placed, rss_mb(cluster)))
            floor_per_second = await burst(
                BURST_ORDERS, CONCURRENCY, lambda: floor_once(shop, hops)
            )

            while shop.placed < MEMORY_ORDERS:
                await order_burst(shop, confirmations, min(CHECKPOINT, MEMORY_ORDERS - shop.placed))
                memory.append((shop.placed, rss_mb(cluster)))
        finally:
            await hops.close()
            await confirmations.close()
    return Figures(
        latencies,
        floor,
        lags,
        raw_trips,
        orders_per_second,
        floor_per_second,
        per_order_ms(cpu_before, cpu_after, BURST_ORDERS),
        sequential_cpu_ms,
        memory,
    )


def per_order_ms(
    before: dict[str, float], after: dict[str, float], orders: int
) -> dict[str, float]:
    """Each service's CPU milliseconds per order between two `cpu_seconds` readings."""
    return {service: (after[service] - before[service]) * 1000 / orders for service in before}


def rows(figures: Figures) -> list[dict[str, Any]]:
    placed, loaded = figures.memory[-1]
    _, baseline = figures.memory[0]
    series = [
        {"orders": n, **{s: round(mb, 1) for s, mb in sizes.items()}} for n, sizes in figures.memory
    ]
    lag, trip = statistics.median(figures.relay_lags), statistics.median(figures.raw_trips)
    return [
        *latency_rows(figures.latencies, figures.floor),
        {
            "benchmark": "of which one relay hop, confirm's event -> notification (p50)",
            "value": round(lag * 1000, 2),
            "unit": "ms",
            "peer": "raw aio-pika round trip (p50)",
            "peer_value": round(trip * 1000, 2),
            "ratio": round(lag / trip, 3),
        },
        {
            "benchmark": f"burst of {BURST_ORDERS:,} orders, {CONCURRENCY} in flight",
            "value": round(figures.orders_per_second, 1),
            "unit": "orders/s",
            "peer": f"raw floor, {CONCURRENCY} in flight",
            "peer_value": round(figures.floor_per_second, 1),
            "ratio": round(figures.orders_per_second / figures.floor_per_second, 3),
        },
        *(
            {
                "benchmark": f"{service} CPU per order (burst)",
                "value": round(ms, 1),
                "unit": "ms/order",
                "peer": None,
                "peer_value": None,
                "ratio": None,
            }
            for service, ms in figures.cpu_ms_per_order.items()
        ),
        *(
            {
                "benchmark": f"{service} CPU per order (one at a time)",
                "value": round(ms, 1),
                "unit": "ms/order",
                "peer": None,
                "peer_value": None,
                "ratio": None,
            }
            for service, ms in figures.sequential_cpu_ms_per_order.items()
        ),
        *(
            {
                "benchmark": f"{service} RSS after {placed:,} orders",
                "value": round(loaded[service], 1),
                "unit": "MB",
                "peer": "RSS after start-up",
                "peer_value": round(baseline[service], 1),
                "ratio": round(loaded[service] / baseline[service], 3),
                "memory_series": series,
            }
            for service in sorted(loaded)
        ),
    ]


def latency_rows(ours: list[float], floor: list[float]) -> list[dict[str, Any]]:
    peer = f"raw floor: GET /health/live + {FLOOR_HOPS} aio-pika round trips"
    figures: dict[str, Callable[[list[float]], float]] = {
        "p50": statistics.median,
        "p99": lambda values: percentile(values, 99),
        "mean": statistics.fmean,
        "max": max,
    }
    rows: list[dict[str, Any]] = []
    for name, figure in figures.items():
        value, peer_value = figure(ours) * 1000, figure(floor) * 1000
        rows.append(
            {
                "benchmark": f"POST /orders -> CONFIRMED, sequential ({name})",
                "value": round(value, 2),
                "unit": "ms",
                "peer": peer,
                "peer_value": round(peer_value, 2),
                "ratio": round(value / peer_value, 3),
            }
        )
    # The distributions themselves, for the report's plot.
    rows[0]["samples_label"] = "ours: POST /orders -> CONFIRMED, one order at a time"
    rows[0]["samples_ms"] = [round(s * 1000, 3) for s in ours]
    rows[0]["peer_samples_ms"] = [round(s * 1000, 3) for s in floor]
    return rows


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> list[dict[str, Any]]:
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    with (
        own_virtual_host() as url,
        tempfile.TemporaryDirectory(prefix="bench-e2e-") as workdir,
        Cluster.on_sqlite(Path(workdir), url, SECRET) as cluster,
    ):
        cluster.add("ordering")
        cluster.add("billing")
        cluster.start()
        figures = asyncio.run(measure(cluster, url))
    table = rows(figures)
    print_rows(
        table, title="End to end: two service processes on RabbitMQ and SQLite (ms = milliseconds)"
    )
    return table


if __name__ == "__main__":
    main()
