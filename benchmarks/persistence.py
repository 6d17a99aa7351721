"""Benchmark: committed commands per second on SQLite and PostgreSQL, with the outbox.

What is measured - each command writes **one aggregate row and one outbox row** and commits:

* **through the mediator**: `Mediator` + `SqlAlchemyUnitOfWork` + repository +
  `OutboxMiddleware` -> `BufferedOutbox` -> `SqlAlchemyOutboxStorage`, one command at a time,
  next to the same two INSERTs in a bare SQLAlchemy Core transaction, statements built once
  (``ratio`` = ours / bare: the share of the database's own rate the layers keep);
* the same with 8 commands in flight (SQLite queues writers, PostgreSQL runs them side by side);
* **relay**: `OutboxService` over `SqlAlchemyOutboxStorage` (claim 100 with one
  ``UPDATE ... RETURNING``, publish to a no-op broker, mark published) next to the in-memory
  storage.

SQLite is a WAL file in a temporary directory; PostgreSQL is a fresh database on
``BENCH_POSTGRES_URL`` (default: the local server), dropped afterwards, and skipped when the
server cannot be reached. Figures are medians of a few runs, ours and the peer's taken in
turns; run: ``just bench persistence`` or ``python -m benchmarks.persistence``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text
from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from benchmarks._report import print_rows
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage, outbox_table
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus

COMMANDS = 300
CONCURRENCY = 8
RELAY_MESSAGES = 2_000
RELAY_BATCH = 100
REPETITIONS = 5
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")

# --- a one-table service -------------------------------------------------------------------

# The benchmark's own table; the core's tables come from the migrations.
bench_metadata = MetaData()
orders = Table(
    "bench_orders",
    bench_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("total", Integer, nullable=False),
)


class OrderPlaced(DomainEvent):
    order_id: str
    total: int


class Order(AggregateRoot):
    def __init__(self, id: str, customer_id: str, total: int) -> None:
        super().__init__(id)
        self.customer_id = customer_id
        self.total = total


class OrderRepository(SqlAlchemyRepository[Order]):
    table = orders

    def _to_row(self, aggregate: Order) -> dict[str, Any]:
        return {"customer_id": aggregate.customer_id, "total": aggregate.total}

    def _from_row(self, row: RowMapping) -> Order:
        return Order(row["id"], row["customer_id"], row["total"])


class BenchUnitOfWork(SqlAlchemyUnitOfWork):
    @property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.session)


class PlaceOrder(Command[str]):
    order_id: str
    total: int = 100


class PlaceOrderHandler:
    async def handle(self, command: PlaceOrder) -> CommandResponse[str]:
        uow: BenchUnitOfWork = get_current_uow()
        order = Order(command.order_id, "c-1", command.total)
        order.add_event(OrderPlaced(order_id=order.id, total=order.total))
        await uow.orders.add(order)
        return CommandResponse(result=order.id, events=order.clear_events())


class NoOpBroker(IMessagePublisher):
    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        return None


def build_mediator(engine: AsyncEngine) -> Mediator:
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    outbox = BufferedOutbox(storage=SqlAlchemyOutboxStorage(engine), broker=NoOpBroker())
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(outbox), priority=20)
    registry = HandlerRegistry()
    registry.register_command_handler(PlaceOrder, PlaceOrderHandler())
    return Mediator(
        registry=registry,
        uow_factory=lambda: BenchUnitOfWork(session_factory),
        middleware_registry=middleware,
    )


# --- measurements --------------------------------------------------------------------------


async def rate(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """``count`` calls of ``one(n)``, ``concurrency`` at a time; calls per second."""
    numbers = iter(range(count))

    async def sender() -> None:
        for n in numbers:
            await one(n)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def mediator_rate(engine: AsyncEngine, concurrency: int) -> float:
    mediator = build_mediator(engine)
    prefix = uuid.uuid4().hex[:8]

    async def one(n: int) -> None:
        await mediator.send(PlaceOrder(order_id=f"{prefix}-{n}"))

    return await rate(COMMANDS, concurrency, one)


async def bare_rate(engine: AsyncEngine, concurrency: int) -> float:
    prefix = uuid.uuid4().hex[:8]
    # Built once, bound per call - as the services' own statements are: a floor that rebuilt
    # its statements per call would be slower than the code it is the floor of.
    insert_order, insert_row = insert(orders), insert(outbox_table)

    async def one(n: int) -> None:
        order_id = f"{prefix}-{n}"
        event = OrderPlaced(order_id=order_id, total=100)
        row = OutboxMessage.create("OrderPlaced", event)
        async with engine.begin() as connection:
            await connection.execute(
                insert_order, {"id": order_id, "version": 1, "customer_id": "c-1", "total": 100}
            )
            await connection.execute(
                insert_row,
                {
                    "message_id": row.message_id,
                    "topic": row.topic,
                    "payload": row.payload,
                    "correlation_id": row.correlation_id,
                    "causation_id": row.causation_id,
                    "status": row.status.value,
                    "attempts": 0,
                    "created_at": row.created_at,
                    "next_attempt_at": row.next_attempt_at,
                },
            )

    return await rate(COMMANDS, concurrency, one)


async def relay_rate(storage: IOutboxStorage) -> float:
    rows = [
        OutboxMessage.create("OrderPlaced", OrderPlaced(order_id=str(n), total=n))
        for n in range(RELAY_MESSAGES)
    ]
    await storage.save(rows)
    service = OutboxService(storage, NoOpBroker())
    started = time.perf_counter()
    while await service.process_batch(batch_size=RELAY_BATCH):
        pass
    elapsed = time.perf_counter() - started
    counts = await storage.count_by_status()
    assert counts[OutboxStatus.PENDING] == 0, counts
    return RELAY_MESSAGES / elapsed


async def medians(
    ours: Callable[[], Awaitable[float]], peer: Callable[[], Awaitable[float]]
) -> tuple[float, float]:
    """Median of each, measured in turns so that both see the same machine."""
    ours_runs, peer_runs = [], []
    for _ in range(REPETITIONS):
        ours_runs.append(await ours())
        peer_runs.append(await peer())
    return statistics.median(ours_runs), statistics.median(peer_runs)


async def measure_database(name: str, engine: AsyncEngine) -> list[dict[str, Any]]:
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(bench_metadata.create_all)
    rows = []
    for concurrency in (1, CONCURRENCY):
        ours, bare = await medians(
            partial(mediator_rate, engine, concurrency), partial(bare_rate, engine, concurrency)
        )
        in_flight = "one at a time" if concurrency == 1 else f"{concurrency} in flight"
        rows.append(
            row(
                f"{name}: command + outbox row, committed ({in_flight})",
                ours,
                "cmd/s",
                "bare Core transaction, same 2 INSERTs",
                bare,
            )
        )
    sql_relay, memory_relay = await medians(
        lambda: relay_rate(SqlAlchemyOutboxStorage(engine)),
        lambda: relay_rate(InMemoryOutboxStorage()),
    )
    rows.append(
        row(
            f"{name}: outbox relay, no-op broker, batches of {RELAY_BATCH}",
            sql_relay,
            "msg/s",
            "in-memory outbox storage",
            memory_relay,
        )
    )
    return rows


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str | None]:
    """A fresh database on the PostgreSQL server, dropped afterwards; None when unreachable."""
    server = make_url(POSTGRES_URL)
    name = f"bench_persistence_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")  # CREATE DATABASE
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except (OSError, DBAPIError) as error:
            print(f"PostgreSQL skipped: cannot reach {server.render_as_string()}: {error}")
            yield None
            return
        try:
            yield server.set(database=name).render_as_string(False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def measure() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
        try:
            rows += await measure_database("SQLite (WAL file)", engine)
        finally:
            await engine.dispose()
    async with postgres_database() as url:
        if url is not None:
            engine = create_engine(url)
            try:
                rows += await measure_database("PostgreSQL", engine)
            finally:
                await engine.dispose()
    return rows


def row(name: str, value: float, unit: str, peer: str, peer_value: float) -> dict[str, Any]:
    return {
        "benchmark": name,
        "value": round(value, 1),
        "unit": unit,
        "peer": peer,
        "peer_value": round(peer_value, 1),
        "ratio": round(value / peer_value, 3),
    }


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    rows = asyncio.run(measure())
    print_rows(rows, title="persistence throughput (median; ratio = ours / peer)")
    return rows


if __name__ == "__main__":
    main()
