"""Benchmark: billing scaled out on PostgreSQL - orders confirmed per second, 1 then 2 replicas.

Replicas of a service share its database and compete for its queue (README, "Running
modes"); this measures what billing's second replica buys. Each service runs as OS processes
(`deploy/cluster.py`) on a fresh PostgreSQL database of its own (``BENCH_POSTGRES_URL``'s
server, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) and RabbitMQ on a fresh
virtual host (``AMQP_URL``, see benchmarks/rabbitmq.py), all removed afterwards, even on
failure. Two configurations, each from scratch:

* (a) 2 ordering replicas + 1 billing replica;
* (b) 2 ordering replicas + 2 billing replicas, sharing billing's database and its queue.

Why two ordering replicas in both: measured with one, ordering spent about as much CPU per
order as billing (~19 ms and ~17 ms here), and each replica is one event loop, so a single
ordering replica would saturate no later than a single billing replica - it would cap (b) and
the ratio would measure ordering. With two, only billing's replica count changes.

In each: 256 customers get accounts of their own, so no two payments in flight debit the same
account (the merchant's account is credited by every payment: the one row they all share);
a warm-up of 64 orders, not measured; then a burst of ``SCALING_ORDERS`` orders (500 by
default) placed 32 at a time, spread over ordering's replicas. The clock starts at the first
``POST /orders`` and stops when the last ``OrderConfirmed`` notification arrives on a queue of
this benchmark's own, bound to ordering's notifications topic (as in benchmarks/e2e.py: no
polling). Rows: orders confirmed per second in (a) and in (b), and (b) next to (a) as its
peer - ``ratio`` = 2 replicas / 1 replica (the project's target: >= 1.6).

Where the work went: each replica's CPU time (user + system, psutil) during the burst per
order, and how many of the machine's CPUs were busy meanwhile (everything on the machine,
not only this benchmark). A replica's ms/order x orders/s / 1000 is the share of a core it
kept busy: a second billing replica helps only while one replica is near a whole core and
the machine has a core to spare; on a machine already busy, the ratio measures the machine.
Warning and error lines of the services' logs are printed after each configuration.

Run: ``just bench scaling`` or ``python -m benchmarks.scaling``; ``SCALING_ORDERS=200`` for a
quicker look. Results page: docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks._report import print_rows
from benchmarks.e2e import CONCURRENCY, ITEMS, WAIT, Confirmations, burst, order_burst
from benchmarks.rabbitmq import own_virtual_host
from deploy.cluster import MODULES, Cluster
from deploy.tokens import issue

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
"""The server the services' databases are made on (each configuration gets fresh ones)."""
ORDERS = int(os.environ.get("SCALING_ORDERS", "500"))
"""Orders in each configuration's measured burst; ``SCALING_ORDERS=200`` for a quicker look."""
WARMUP_ORDERS = 2 * CONCURRENCY
"""Orders placed (not measured) before the burst: every replica's connections are open."""
CUSTOMERS = 256
"""Distinct customers, each with an account of its own: no two payments in flight debit the
same account (the merchant's, credited by every payment, is the one row they all share)."""
ORDERING_REPLICAS = 2
"""Ordering's replicas in every configuration: enough that ordering does not cap billing."""
BILLING_REPLICAS = (1, 2)
"""The configurations compared: billing's replica count (ordering's stays the same)."""
SECRET = secrets.token_hex(32)
LOG_LINES_SHOWN = 5
"""Warning and error lines of each replica's log printed after a configuration."""


@contextmanager
def own_databases(services: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """A fresh, empty database per service on `POSTGRES_URL`'s server, dropped on exit."""
    server = make_url(POSTGRES_URL)
    names = {service: f"bench_scaling_{service}_{uuid.uuid4().hex[:8]}" for service in services}

    async def execute(*statements: str) -> None:
        admin = create_async_engine(server, isolation_level="AUTOCOMMIT")  # CREATE DATABASE
        try:
            async with admin.connect() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
        finally:
            await admin.dispose()

    made: list[str] = []
    try:
        for name in names.values():
            asyncio.run(execute(f'CREATE DATABASE "{name}"'))
            made.append(name)
        yield {s: server.set(database=n).render_as_string(False) for s, n in names.items()}
    finally:
        if made:
            asyncio.run(execute(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in made)))


class Customers:
    """The client side: funded customers placing orders, spread over ordering's replicas."""

    def __init__(self, cluster: Cluster, client: httpx.AsyncClient) -> None:
        self.billing = cluster.url("billing")
        self.ordering = itertools.cycle([p.url for p in cluster.replicas("ordering")])
        self.client = client
        self.names = [f"customer-{uuid.uuid4().hex[:6]}-{n}" for n in range(CUSTOMERS)]
        self._next = itertools.cycle(self.names)

    async def open_accounts(self) -> None:
        async def open_one(customer: str) -> None:
            body = {"account_id": customer, "balance": "1000000000"}
            response = await self.client.post(f"{self.billing}/accounts", json=body)
            response.raise_for_status()

        accounts = iter(self.names)
        await burst(len(self.names), CONCURRENCY, lambda: open_one(next(accounts)))

    async def place_order(self) -> str:
        body = {"customer_id": next(self._next), "items": ITEMS}
        response = await self.client.post(f"{next(self.ordering)}/orders", json=body)
        response.raise_for_status()
        order_id: str = response.json()["order_id"]
        return order_id


def cpu_seconds(cluster: Cluster) -> dict[str, float]:
    """CPU time (user + system) each replica has used so far, by replica name."""
    used: dict[str, float] = {}
    for replica in cluster.processes:
        if replica.pid is None:
            raise RuntimeError(f"{replica.name} is not running; its log: {replica.log}")
        times = psutil.Process(replica.pid).cpu_times()
        used[replica.name] = times.user + times.system
    return used


def machine_busy_seconds() -> float:
    """CPU time every CPU of the machine has spent working so far (all processes, anyone's)."""
    times = psutil.cpu_times()
    return sum(getattr(times, part, 0.0) for part in ("user", "nice", "system", "irq", "softirq"))


@dataclass(frozen=True)
class Run:
    """One configuration's figures."""

    billing_replicas: int
    orders_per_second: float
    cpu_ms_per_order: dict[str, float]
    """CPU milliseconds per measured order, by replica name (``billing-2``...)."""
    machine_busy: float
    """CPUs of the machine kept busy during the burst, on average (by anything running)."""


async def measure(cluster: Cluster, url: str, billing_replicas: int) -> Run:
    confirmations = Confirmations(url)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Authorization": f"Bearer {issue('bench', ['operator'], secret=SECRET)}"}
    async with httpx.AsyncClient(limits=limits, timeout=WAIT, headers=headers) as client:
        customers = Customers(cluster, client)
        await confirmations.start()
        try:
            await customers.open_accounts()
            await order_burst(customers, confirmations, WARMUP_ORDERS)
            replicas_before, machine_before = cpu_seconds(cluster), machine_busy_seconds()
            started = time.perf_counter()
            orders_per_second = await order_burst(customers, confirmations, ORDERS)
            seconds = time.perf_counter() - started
            replicas_after, machine_after = cpu_seconds(cluster), machine_busy_seconds()
        finally:
            await confirmations.close()
    return Run(
        billing_replicas,
        orders_per_second,
        {
            name: (replicas_after[name] - used) * 1000 / ORDERS
            for name, used in sorted(replicas_before.items())
        },
        (machine_after - machine_before) / seconds,
    )


def run_configuration(billing_replicas: int) -> Run:
    """Fresh databases, a fresh virtual host, the replicas started; always all removed."""
    with (
        own_virtual_host() as url,
        own_databases(tuple(MODULES)) as databases,
        tempfile.TemporaryDirectory(prefix="bench-scaling-") as workdir,
        Cluster(Path(workdir), url, databases, SECRET) as cluster,
    ):
        for _ in range(billing_replicas):
            cluster.add("billing")
        for _ in range(ORDERING_REPLICAS):
            cluster.add("ordering")
        try:
            cluster.start()
            return asyncio.run(measure(cluster, url, billing_replicas))
        finally:
            report_log_problems(cluster, configuration(billing_replicas))


def report_log_problems(cluster: Cluster, label: str) -> None:
    """Print each replica's warnings and errors (lock timeouts, exhausted pools...), if any."""
    for replica in cluster.processes:
        lines = [
            line
            for line in replica.log_text().splitlines()
            if any(word in line for word in ("WARNING", "ERROR", "CRITICAL", "Traceback"))
        ]
        if lines:
            print(f"{label}, {replica.name}: {len(lines)} warning/error lines in its log:")
            for line in lines[:LOG_LINES_SHOWN]:
                print(f"    {line}")


def configuration(billing_replicas: int) -> str:
    """``2 ordering + 1 billing replica``: what ran."""
    plural = "s" if billing_replicas > 1 else ""
    return f"{ORDERING_REPLICAS} ordering + {billing_replicas} billing replica{plural}"


def row(
    benchmark: str,
    value: float,
    unit: str,
    *,
    peer: str | None = None,
    peer_value: float | None = None,
    ratio: float | None = None,
) -> dict[str, Any]:
    """A row as every module returns it (benchmarks/_report.py)."""
    return {
        "benchmark": benchmark,
        "value": value,
        "unit": unit,
        "peer": peer,
        "peer_value": peer_value,
        "ratio": ratio,
    }


def rows(runs: list[Run]) -> list[dict[str, Any]]:
    one, two = runs
    cpus = psutil.cpu_count() or 0
    table = [
        row(
            f"{configuration(run.billing_replicas)}: burst of {ORDERS:,} orders, "
            f"{CONCURRENCY} in flight",
            round(run.orders_per_second, 1),
            "orders/s",
        )
        for run in runs
    ]
    table.append(
        row(
            f"{two.billing_replicas} billing replicas next to {one.billing_replicas}",
            round(two.orders_per_second, 1),
            "orders/s",
            peer=f"{one.billing_replicas} billing replica",
            peer_value=round(one.orders_per_second, 1),
            ratio=round(two.orders_per_second / one.orders_per_second, 3),
        )
    )
    for run in runs:
        label = configuration(run.billing_replicas)
        table += [
            row(f"{label}: {name} CPU per order (burst)", round(ms, 2), "ms/order")
            for name, ms in run.cpu_ms_per_order.items()
        ]
        table.append(
            row(
                f"{label}: machine CPUs busy during the burst (anyone's work)",
                round(run.machine_busy, 2),
                f"CPUs of {cpus}",
            )
        )
    return table


def main() -> list[dict[str, Any]]:
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    runs = [run_configuration(replicas) for replicas in BILLING_REPLICAS]
    table = rows(runs)
    print_rows(
        table,
        title="Billing scaled out: service processes on PostgreSQL and RabbitMQ "
        "(ms = milliseconds)",
    )
    return table


if __name__ == "__main__":
    main()
