"""Scenarios: features/core/lock_expiry.feature (RedisLockStrategy on real Redis, SQL shelves).

What a ttl lock cannot promise, and what keeps the books straight anyway. Two holders stand
for two processes: each has an event loop, a Redis client and a database engine of its own.
The thing to notice is how holder A "pauses": a blocking call on its own event loop, so nothing
of A runs - not even a heartbeat that would `extend` its lock - while Redis expires A's lock and
B takes it. When A wakes up, the only thing between its stale copy and B's newer count is the
shelf's optimistic ``version`` in the ``UPDATE ... WHERE version = :read``.

The warehouse's shelves (tests/warehouse/) are read and written in separate transactions (as
the lock stress workload does): the lock alone is meant to keep writers apart, which is exactly
the trust a pause betrays.

The words of the feature: a clerk is a holder, "freezes" a blocked event loop, "for at most
0.3 seconds" the lock's ttl, "writes it to the books" commits.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.warehouse.domain import Shelf
from tests.warehouse.sql import WarehouseSqlUnitOfWork, shelves
from tests.warehouse.stock_moves import shelf as shelf_lock

pytestmark = pytest.mark.redis

scenarios("core/lock_expiry.feature")

WAIT = 10.0  # how long B may wait for A's lock: far above the ttl, never reached when correct

# --- two holders, as two processes would be --------------------------------------------------


@dataclass
class Holder:
    """One process: its event loop (``portal``), its Redis client and its database engine."""

    name: str
    portal: BlockingPortal
    locks: RedisLockStrategy
    engine: AsyncEngine
    token: str | None = None
    shelf: Shelf | None = None
    write_error: ConcurrencyError | None = None
    release_error: LockReleaseError | None = None

    def uow(self) -> WarehouseSqlUnitOfWork:
        return WarehouseSqlUnitOfWork(async_sessionmaker(self.engine, expire_on_commit=False))

    def call(self, fn: Any, *args: Any) -> Any:
        return self.portal.call(fn, *args)


@dataclass
class World:
    database_url: str
    holders: dict[str, Holder] = field(default_factory=dict)
    stalled: threading.Event = field(default_factory=threading.Event)
    wake_up: threading.Event = field(default_factory=threading.Event)
    stall: Future[None] | None = None

    def holder(self, name: str) -> Holder:
        return self.holders[name]


@pytest.fixture
def holder_a_loop() -> Iterator[BlockingPortal]:
    """Holder A's event loop, in a thread of its own (B uses the scenario's)."""
    with start_blocking_portal(backend="asyncio") as portal:
        yield portal


@pytest.fixture
def world(tmp_path: Path, portal: BlockingPortal, holder_a_loop: BlockingPortal) -> Iterator[World]:
    # Depends on both loops, so its clean-up runs while they still do.
    world = World(f"sqlite+aiosqlite:///{tmp_path / 'warehouse.db'}")
    yield world
    world.wake_up.set()  # never leave A's loop blocked, whatever failed
    for holder in world.holders.values():
        holder.call(holder.locks.aclose)
        holder.call(holder.engine.dispose)


def resource(shelf_id: str) -> ResourceIdentifier:
    return shelf_lock(shelf_id)


@given(parsers.parse('shelf "{shelf_id}" holds {quantity:d} units in the database'))
def a_shelf(world: World, portal: BlockingPortal, shelf_id: str, quantity: int) -> None:
    async def stock_shelf() -> None:
        engine = create_engine(world.database_url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(shelves.create)
                await connection.execute(
                    shelves.insert().values(id=shelf_id, quantity=quantity, version=1)
                )
        finally:
            await engine.dispose()

    portal.call(stock_shelf)


@given("two clerks, each on a computer of its own, sharing locks kept in Redis")
def two_holders(
    world: World,
    portal: BlockingPortal,
    holder_a_loop: BlockingPortal,
    redis_url: str,
    redis_prefix: str,
) -> None:
    prefix = f"{redis_prefix}expiry-{uuid.uuid4().hex[:8]}:"  # both see the same keys
    for name, loop in (("A", holder_a_loop), ("B", portal)):

        async def build() -> tuple[RedisLockStrategy, AsyncEngine]:
            # Built on the holder's own loop: clients and engines belong to one event loop.
            return RedisLockStrategy.from_url(redis_url, prefix=prefix), create_engine(
                world.database_url
            )

        locks, engine = loop.call(build)
        world.holders[name] = Holder(name, loop, locks, engine)


@given(
    parsers.parse(
        'clerk "{name}" locked shelf "{lock}" for at most {ttl:g} seconds and read its count'
    )
)
def locked_and_read(world: World, name: str, lock: str, ttl: float) -> None:
    holder = world.holder(name)

    async def lock_and_read() -> None:
        holder.token = await holder.locks.acquire(
            resource(lock), timeout=WAIT, ttl=ttl, session_id=name
        )
        async with holder.uow() as uow:
            holder.shelf = await uow.shelves.get(resource(lock).resource_id)

    holder.call(lock_and_read)


@when(parsers.parse('clerk "{name}" freezes'))
def event_loop_stalls(world: World, name: str) -> None:
    async def stall() -> None:
        world.stalled.set()
        # A blocking call on purpose: the whole loop stops, as in a long GC or a CPU-bound
        # step. Bounded, so a broken scenario fails instead of hanging.
        world.wake_up.wait(timeout=WAIT * 3)

    world.stall = world.holder(name).portal.start_task_soon(stall)
    assert world.stalled.wait(timeout=WAIT)


@when(
    parsers.parse(
        'clerk "{name}" locks shelf "{lock}", takes {amount:d} and writes it to the books'
    )
)
def locks_takes_commits(world: World, name: str, lock: str, amount: int) -> None:
    holder = world.holder(name)

    async def take() -> None:
        # Waits until Redis expires the paused holder's lock - its ttl, nothing else, frees it.
        token = await holder.locks.acquire(resource(lock), timeout=WAIT, ttl=WAIT, session_id=name)
        try:
            async with holder.uow() as uow:
                shelf = await uow.shelves.get(resource(lock).resource_id)
                shelf.take(amount)
                await uow.shelves.save(shelf)
                await uow.commit()
        finally:
            await holder.locks.release(resource(lock), token)

    holder.call(take)


def _wake_up(world: World) -> None:
    world.wake_up.set()
    assert world.stall is not None
    world.stall.result(timeout=WAIT)


@when(
    parsers.parse('clerk "{name}" wakes up, takes {amount:d} and writes with the version it read')
)
def wakes_and_writes_guarded(world: World, name: str, amount: int) -> None:
    holder = world.holder(name)
    _wake_up(world)

    async def finish() -> None:
        shelf = holder.shelf
        assert shelf is not None
        assert holder.token is not None
        shelf.take(amount)
        try:
            async with holder.uow() as uow:
                await uow.shelves.save(shelf)  # UPDATE ... WHERE version = <read version>
                await uow.commit()
        except ConcurrencyError as refused:
            holder.write_error = refused
        try:
            await holder.locks.release(shelf_lock(shelf.id), holder.token)
        except LockReleaseError as lost:
            holder.release_error = lost

    holder.call(finish)


@when(
    parsers.parse(
        'clerk "{name}" wakes up, takes {amount:d} and writes without checking the version'
    )
)
def wakes_and_writes_blindly(world: World, name: str, amount: int) -> None:
    holder = world.holder(name)
    _wake_up(world)

    async def finish() -> None:
        shelf = holder.shelf
        assert shelf is not None
        shelf.take(amount)
        async with holder.uow() as uow:
            await uow.session.execute(
                update(shelves).where(shelves.c.id == shelf.id).values(quantity=shelf.quantity)
            )
            await uow.commit()

    holder.call(finish)


@then(
    parsers.parse('clerk "{name}"\'s write is refused because the shelf changed since it read it')
)
def write_refused(world: World, name: str) -> None:
    error = world.holder(name).write_error
    assert error is not None, "the stale write went through"
    assert (error.identifier, error.expected_version) == ("S-1", 1)


@then(parsers.parse('clerk "{name}" cannot unlock the shelf because its time limit ran out'))
def release_fails(world: World, name: str) -> None:
    error = world.holder(name).release_error
    assert error is not None, "a holder whose lock expired was allowed to release it"
    assert "ttl expired" in error.reason


def _shelf(world: World, shelf_id: str) -> RowMapping:
    holder = world.holder("B")

    async def read() -> RowMapping:
        async with holder.engine.connect() as connection:
            result = await connection.execute(select(shelves).where(shelves.c.id == shelf_id))
            return result.mappings().one()

    row: RowMapping = holder.call(read)
    return row


@then(parsers.parse('shelf "{shelf_id}" holds {quantity:d} units at version {version:d}'))
def shelf_holds(world: World, shelf_id: str, quantity: int, version: int) -> None:
    row = _shelf(world, shelf_id)
    assert (row["quantity"], row["version"]) == (quantity, version)


@then(
    parsers.parse(
        'shelf "{shelf_id}" holds {quantity:d} units, and clerk "{name}"\'s taking of '
        "{amount:d} is lost"
    )
)
def taking_lost(world: World, shelf_id: str, quantity: int) -> None:
    # What A alone would have left: B's committed taking was overwritten.
    assert _shelf(world, shelf_id)["quantity"] == quantity
