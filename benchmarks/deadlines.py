"""Benchmark: what durable deadlines cost - deadlines fired per second, and CPU while waiting.

What is measured:

* **firing**: `DeadlineScheduler.run_once` in a loop over `SqlAlchemyDeadlineStorage` (claim a
  batch of 100 with one ``UPDATE ... RETURNING``, fire each through a no-op ``fire``, mark each
  fired in a transaction of its own), 2,000 deadlines already due, on SQLite and PostgreSQL,
  next to the same scheduler over the in-memory storage (the cost of the database);
* **idle**: the CPU a running scheduler takes while 10,000 deadlines wait and none is due,
  polling every second (the default ``DEADLINE_POLL_INTERVAL``), next to an event loop that
  only sleeps - the "asyncio.sleep per order" alternative costs memory per order instead.

SQLite is a WAL file in a temporary directory; PostgreSQL is a fresh database on
``BENCH_POSTGRES_URL`` (default: the local server), dropped afterwards, and skipped when the
server cannot be reached. Figures are medians of a few runs; run: ``just bench deadlines`` or
``python -m benchmarks.deadlines``. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks._report import print_rows
from benchmarks.persistence import postgres_database
from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.adapters.sqlalchemy.deadlines import (
    DEADLINES_VERSIONS,
    SqlAlchemyDeadlineStorage,
    deadlines_table,
)
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from cqrs_ddd_core.ports.deadlines import Deadline, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now

DUE = 2_000
WAITING = 10_000
BATCH = 100
IDLE_SECONDS = 5.0
POLL_INTERVAL = 1.0
REPETITIONS = 3


async def _fire(deadline: Deadline) -> None:
    """A no-op: what is measured is claiming and marking, not what a deadline does."""


def _deadlines(count: int, *, in_seconds: float) -> list[Deadline]:
    due_at = utc_now() + timedelta(seconds=in_seconds)
    return [Deadline(name="bench", key=str(n), due_at=due_at) for n in range(count)]


async def _fill(engine: AsyncEngine, count: int, *, in_seconds: float) -> None:
    """Insert ``count`` deadlines in one statement (the setup is not what is measured)."""
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM cqrs_deadlines"))
        rows = [
            {
                "deadline_id": d.deadline_id,
                "name": d.name,
                "deadline_key": d.key,
                "due_at": d.due_at,
                "payload": {},
                "status": "pending",
                "attempts": 0,
                "created_at": d.created_at,
            }
            for d in _deadlines(count, in_seconds=in_seconds)
        ]
        await connection.execute(insert(deadlines_table), rows)


async def _fire_all(storage: IDeadlineStorage) -> float:
    """Deadlines fired per second, until none is due."""
    scheduler = DeadlineScheduler(storage, _fire, batch_size=BATCH)
    started = time.perf_counter()
    while await scheduler.run_once():
        pass
    elapsed = time.perf_counter() - started
    assert scheduler.fired == DUE, scheduler.fired
    return DUE / elapsed


async def _memory_rate() -> float:
    storage = InMemoryDeadlineStorage()
    for deadline in _deadlines(DUE, in_seconds=-1):
        await storage.schedule(deadline)
    return await _fire_all(storage)


async def _sql_rate(engine: AsyncEngine) -> float:
    await _fill(engine, DUE, in_seconds=-1)
    return await _fire_all(SqlAlchemyDeadlineStorage(engine))


async def _cpu_share(wait: Callable[[], Awaitable[None]]) -> float:
    """The share of one core this process used while ``wait`` ran, in percent."""
    cpu, wall = time.process_time(), time.perf_counter()
    await wait()
    return 100 * (time.process_time() - cpu) / (time.perf_counter() - wall)


async def _idle_scheduler(engine: AsyncEngine) -> float:
    await _fill(engine, WAITING, in_seconds=3600)
    scheduler = DeadlineScheduler(
        SqlAlchemyDeadlineStorage(engine), _fire, poll_interval=POLL_INTERVAL
    )

    async def wait() -> None:
        await scheduler.start()
        await asyncio.sleep(IDLE_SECONDS)
        await scheduler.stop()

    share = await _cpu_share(wait)
    assert scheduler.fired == 0
    return share


async def _idle_loop() -> float:
    return await _cpu_share(lambda: asyncio.sleep(IDLE_SECONDS))


async def _median(measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(REPETITIONS)])


async def measure_database(name: str, url: str) -> list[dict[str, Any]]:
    await upgrade(url, DEADLINES_VERSIONS)
    engine = create_engine(url)
    try:
        fired = await _median(lambda: _sql_rate(engine))
        memory = await _median(_memory_rate)
        idle = await _idle_scheduler(engine)
        loop = await _idle_loop()
    finally:
        await engine.dispose()
    return [
        row(
            f"{name}: deadlines fired, batches of {BATCH}",
            fired,
            "deadlines/s",
            "in-memory deadline storage",
            memory,
        ),
        row(
            f"{name}: idle scheduler, {WAITING:,} waiting, poll every {POLL_INTERVAL:g} s",
            idle,
            "% of a core",
            "an event loop that only sleeps",
            loop,
        ),
    ]


async def measure() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'deadlines.db'}"
        rows += await measure_database("SQLite", url)
    async with postgres_database() as postgres:
        if postgres is not None:
            rows += await measure_database("PostgreSQL", postgres)
    return rows


def row(name: str, value: float, unit: str, peer: str, peer_value: float) -> dict[str, Any]:
    return {
        "benchmark": name,
        "value": round(value, 2),
        "unit": unit,
        "peer": peer,
        "peer_value": round(peer_value, 2),
        "ratio": round(value / peer_value, 3) if peer_value else None,
    }


def main() -> list[dict[str, Any]]:
    logging.getLogger("cqrs_ddd_core").setLevel(logging.WARNING)
    rows = asyncio.run(measure())
    print_rows(rows, title="deadline scheduler (median; ratio = ours / peer)")
    return rows


if __name__ == "__main__":
    main()
