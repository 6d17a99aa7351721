"""Benchmark: where an order's database CPU goes on SQLite - the services' own SQL, replayed.

What is measured: both services built from their bootstraps in this process, each on a SQLite
file of its own (WAL, as they run), talking through one `InMemoryBroker`. After a warm-up,
orders are placed one at a time, each waited for until ordering's "order confirmed"
notification arrives, while every statement and every commit the two engines send to SQLite
is recorded, transaction by transaction. That SQL - the same text, the same parameters, the
same transactions, in the order they committed - is then replayed onto copies of the two
databases taken just before the recording, three ways:

* through **SQLAlchemy's aiosqlite adapter** (`create_engine`, ``exec_driver_sql``: nothing
  compiled, no session, no code of ours) - the stack the services stand on, with nothing on
  top. The adapter makes three or four trips to aiosqlite's worker thread per statement:
  the cursor, the execute, the fetch, the close;
* through **aiosqlite** directly, one trip per statement (``execute_fetchall``) and per
  commit;
* through Python's **sqlite3** in the calling thread: SQLite's own work.

Each figure is per order, the median of a few replays taken in turns: CPU (every thread of
the process, ``time.process_time``) for each service, and the wall time of both services' SQL
together: about what the order's three transactions add to its latency (the relays' gathered
marks and the services' idle polls are in it too, about a tenth of the transactions). ``ratio``
is the row's way over sqlite3: what the trips to the thread and the adapter add to the same
SQL. The last row puts the live run next to its SQL: both services' CPU per order while they
were recorded, over the same SQL replayed through the adapter; what the ratio adds above 1 is
everything else (the services' code, the core, the broker). Run: ``just bench sqlite_path``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from benchmarks._report import print_rows
from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import OpenAccountCommand
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.sqlalchemy.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    read_only,
)
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import CreateOrderCommand, OrderItem

SERVICES = ("ordering", "billing")
WARMUP_ORDERS = 10
ORDERS = 100
REPETITIONS = 3
SETTLE = 1.0
"""Seconds to wait for the relays' gathered marks (0.5 s in the services) to be written."""
UNIT = "ms/order"
WAIT = 30.0
"""The longest one order may take to be confirmed (seconds)."""


@dataclass
class Transaction:
    statements: list[tuple[str, Any]] = field(default_factory=list)
    """(SQL text, parameters) as the driver received them, ``BEGIN`` included."""
    ending: str = "rollback"
    """``commit`` or ``rollback``; a transaction ended by the pool's reset is a rollback."""


class Recorder:
    """What each service's engine sends to SQLite, transaction by transaction, while on."""

    def __init__(self, databases: dict[str, Path]) -> None:
        self._service_of = {str(path): name for name, path in databases.items()}
        self.transactions: dict[str, list[Transaction]] = {name: [] for name in databases}
        self._open: dict[int, tuple[str, Transaction]] = {}
        self.on = False

    def _key(self, connection: Connection) -> int:
        # One SQLite connection has one transaction at a time: it is the key.
        return id(connection.connection.dbapi_connection)

    def statement(
        self, conn: Connection, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool
    ) -> None:
        if not self.on:
            return
        key = self._key(conn)
        if sql.startswith("BEGIN"):
            # A read-only transaction ends in the pool's reset, which no event reports.
            self._close(key, "rollback")
            service = self._service_of[str(conn.engine.url.database)]
            self._open[key] = (service, Transaction())
        if key in self._open:
            self._open[key][1].statements.append((sql, params))

    def commit(self, conn: Connection) -> None:
        self._close(self._key(conn), "commit")

    def rollback(self, conn: Connection) -> None:
        self._close(self._key(conn), "rollback")

    def _close(self, key: int, ending: str) -> None:
        opened = self._open.pop(key, None)
        if opened is not None:
            service, transaction = opened
            transaction.ending = ending
            self.transactions[service].append(transaction)

    def finish(self) -> None:
        self.on = False
        for key in list(self._open):
            self._close(key, "rollback")

    @contextmanager
    def listening(self) -> Iterator[Recorder]:
        hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", self.statement),
            ("commit", self.commit),
            ("rollback", self.rollback),
        ]
        for name, hook in hooks:
            event.listen(Engine, name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                event.remove(Engine, name, hook)


# --- the live run, recorded ------------------------------------------------------------------


@dataclass
class Recording:
    snapshots: dict[str, Path]
    transactions: dict[str, list[Transaction]]
    live_cpu_ms: float
    """Both services' CPU per order while they were recorded."""
    rows_after: dict[str, dict[str, int]]
    """Each service's rows per table when the recording stopped: what a replay must end with."""


async def record(directory: Path) -> Recording:
    databases = {name: directory / f"{name}.db" for name in SERVICES}
    snapshots = {name: directory / f"{name}-before.db" for name in SERVICES}
    broker = InMemoryBroker()
    billing = billing_bootstrap.build(
        billing_bootstrap.BillingSettings(
            database_url=f"sqlite+aiosqlite:///{databases['billing']}", amqp_url=""
        ),
        broker=broker,
    )
    ordering = ordering_bootstrap.build(
        ordering_bootstrap.OrderingSettings(
            database_url=f"sqlite+aiosqlite:///{databases['ordering']}", amqp_url=""
        ),
        broker=broker,
    )
    confirmed: dict[str, asyncio.Future[None]] = {}

    async def on_confirmed(payload: dict[str, Any]) -> None:
        waiter = confirmed.get(str(payload["order_id"]))
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def place_one() -> None:
        item = OrderItem(sku="BOOK-1", quantity=2, unit_price=Decimal("12.50"))
        placed = await ordering.mediator.send(CreateOrderCommand(customer_id="ada", items=[item]))
        order_id = str(placed.result)
        # Registered before this task awaits again: the confirmation needs the consumers'
        # tasks to run, so it cannot arrive first.
        waiter = confirmed.setdefault(order_id, asyncio.get_running_loop().create_future())
        await asyncio.wait_for(waiter, WAIT)

    recorder = Recorder(databases)
    await billing.start()
    await ordering.start()
    try:
        await broker.subscribe("notifications.OrderConfirmed", on_confirmed)
        await billing.mediator.send(OpenAccountCommand(account_id="ada", balance=Decimal(10**9)))
        for _ in range(WARMUP_ORDERS):
            await place_one()
        await asyncio.sleep(SETTLE)
        with recorder.listening():
            # No await between the copies and switching the recorder on: nothing is missed.
            for name in SERVICES:
                copy_database(databases[name], snapshots[name])
            recorder.on = True
            started = time.process_time()
            for _ in range(ORDERS):
                await place_one()
            await asyncio.sleep(SETTLE)
            live_cpu_ms = (time.process_time() - started) * 1000 / ORDERS
            recorder.finish()
            rows_after = {name: table_rows(databases[name]) for name in SERVICES}
    finally:
        await ordering.stop()
        await billing.stop()
        await broker.stop()
    return Recording(snapshots, recorder.transactions, live_cpu_ms, rows_after)


def table_rows(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live WAL database (SQLite's online backup)."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


# --- the replays ---------------------------------------------------------------------------


async def through_sqlalchemy(database: Path, transactions: list[Transaction]) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    reading = read_only(engine)
    try:
        for transaction in transactions:
            first = transaction.statements[0][0]
            # The engine's own begin hook issues BEGIN IMMEDIATE or, read-only, DEFERRED.
            chosen = reading if first.startswith("BEGIN DEFERRED") else engine
            async with chosen.connect() as connection:
                for sql, params in transaction.statements:
                    if sql.startswith("BEGIN"):
                        continue
                    result = await connection.exec_driver_sql(sql, params)
                    if result.returns_rows:
                        result.fetchall()
                if transaction.ending == "commit":
                    await connection.commit()
                else:
                    await connection.rollback()
    finally:
        await engine.dispose()


async def through_aiosqlite(database: Path, transactions: list[Transaction]) -> None:
    async with aiosqlite.connect(database, isolation_level=None) as connection:
        await connection.execute("PRAGMA synchronous=NORMAL")  # as the services' engine
        await connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        for transaction in transactions:
            for sql, params in transaction.statements:
                await connection.execute_fetchall(sql, params)
            if transaction.ending == "commit":
                await connection.commit()
            else:
                await connection.rollback()


async def through_sqlite3(database: Path, transactions: list[Transaction]) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA synchronous=NORMAL")
    try:
        for transaction in transactions:
            for sql, params in transaction.statements:
                connection.execute(sql, params).fetchall()
            if transaction.ending == "commit":
                connection.commit()
            else:
                connection.rollback()
    finally:
        connection.close()


Replay = Callable[[Path, list[Transaction]], Awaitable[None]]
ADAPTER = "SQLAlchemy's aiosqlite adapter"
AIOSQLITE = "aiosqlite, one trip per statement"
SQLITE3 = "sqlite3 in the calling thread"
WAYS: dict[str, Replay] = {
    ADAPTER: through_sqlalchemy,
    AIOSQLITE: through_aiosqlite,
    SQLITE3: through_sqlite3,
}


async def replay(
    way: Replay,
    snapshot: Path,
    transactions: list[Transaction],
    directory: Path,
    rows_after: dict[str, int],
) -> tuple[float, float]:
    """(CPU, wall) ms per order of one replay, onto a fresh copy of the database as it was.

    The replayed copy must end with the rows the live database had: proof that the replay did
    the services' work, not less.
    """
    target = directory / f"replay-{snapshot.name}"
    target.unlink(missing_ok=True)
    copy_database(snapshot, target)
    with closing(sqlite3.connect(target)) as connection:  # the services run WAL; so does this
        connection.execute("PRAGMA journal_mode=WAL")
    cpu, wall = time.process_time(), time.perf_counter()
    await way(target, transactions)
    figures = (
        (time.process_time() - cpu) * 1000 / ORDERS,
        (time.perf_counter() - wall) * 1000 / ORDERS,
    )
    replayed = table_rows(target)
    if replayed != rows_after:
        raise AssertionError(
            f"replaying {snapshot.name} with {way.__name__} left {replayed}, "
            f"the live database had {rows_after}"
        )
    return figures


# --- the report ----------------------------------------------------------------------------


async def measure() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        recording = await record(directory)
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for repetition in range(REPETITIONS):
            ways = list(WAYS.items())
            if repetition % 2:
                ways.reverse()  # who goes first alternates
            for service in SERVICES:
                for label, way in ways:
                    runs.setdefault((service, label), []).append(
                        await replay(
                            way,
                            recording.snapshots[service],
                            recording.transactions[service],
                            directory,
                            recording.rows_after[service],
                        )
                    )
    cpu = {key: statistics.median(c for c, _ in values) for key, values in runs.items()}
    wall = {key: statistics.median(w for _, w in values) for key, values in runs.items()}
    rows = []
    for service in SERVICES:
        transactions = recording.transactions[service]
        statements = sum(len(t.statements) for t in transactions) / ORDERS
        what = (
            f"{service}'s SQL for one order ({statements:.1f} statements, "
            f"{len(transactions) / ORDERS:.1f} transactions)"
        )
        for label in (ADAPTER, AIOSQLITE):
            rows.append(
                row(
                    f"{what} through {label}, CPU",
                    cpu[(service, label)],
                    SQLITE3,
                    cpu[(service, SQLITE3)],
                )
            )
    rows.append(
        row(
            f"both services' SQL for one order through {ADAPTER}, wall time",
            sum(wall[(service, ADAPTER)] for service in SERVICES),
            SQLITE3,
            sum(wall[(service, SQLITE3)] for service in SERVICES),
        )
    )
    rows.append(
        row(
            "both services embedded, in-memory broker: CPU per order, one at a time",
            recording.live_cpu_ms,
            f"their SQL through {ADAPTER}",
            sum(cpu[(service, ADAPTER)] for service in SERVICES),
        )
    )
    return rows


def row(name: str, value: float, peer: str, peer_value: float) -> dict[str, Any]:
    return {
        "benchmark": name,
        "value": round(value, 2),
        "unit": UNIT,
        "peer": peer,
        "peer_value": round(peer_value, 3),
        "ratio": round(value / peer_value, 2),
    }


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    rows = asyncio.run(measure())
    print_rows(rows, title="an order's SQL on SQLite, replayed (median CPU; ratio = way / sqlite3)")
    return rows


if __name__ == "__main__":
    main()
