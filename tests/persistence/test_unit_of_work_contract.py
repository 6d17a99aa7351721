"""The `UnitOfWork` contract, run unchanged on the in-memory, SQLite and PostgreSQL versions.

What every unit of work promises its callers: committed writes are seen by the next one; an
exception, a rollback or leaving without commit keeps nothing; a rolled-back savepoint undoes
only what happened inside it; ``on_commit`` callbacks run only after a commit and ``on_close``
after either end; a stale save never overwrites; a finished unit of work refuses to be reused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, UnitOfWorkError
from tests.persistence.databases import empty_every_table, sqlite_url
from tests.warehouse.sql import WAREHOUSE_VERSIONS, Shelf, WarehouseSqlUnitOfWork

UowFactory = Callable[[], Any]


class InMemoryWarehouseUnitOfWork(InMemoryUnitOfWork):
    @property
    def shelves(self) -> InMemoryRepository[Shelf]:
        return InMemoryRepository(self, "shelves")


@pytest.fixture(
    params=["in-memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``in-memory``, or the URL of a migrated, empty database."""
    if request.param == "in-memory":
        return "in-memory"
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        asyncio.run(upgrade(url, WAREHOUSE_VERSIONS))
        return url
    url = str(request.getfixturevalue("persistence_postgres_url"))
    asyncio.run(empty_every_table(url))
    return url


@pytest.fixture
async def make_uow(backend: str) -> AsyncIterator[UowFactory]:
    if backend == "in-memory":
        store = InMemoryStore()
        yield lambda: InMemoryWarehouseUnitOfWork(store)
        return
    engine = create_engine(backend)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield lambda: WarehouseSqlUnitOfWork(sessions)
    await engine.dispose()


async def value_of(make_uow: UowFactory, shelf_id: str) -> int | None:
    async with make_uow() as uow:
        shelf = await uow.shelves.find(shelf_id)
        return None if shelf is None else int(shelf.quantity)


async def test_committed_writes_are_seen_by_the_next_unit_of_work(make_uow: UowFactory) -> None:
    async with make_uow() as uow:
        await uow.shelves.add(Shelf("c", 1))
        await uow.commit()
    assert await value_of(make_uow, "c") == 1


async def test_leaving_without_commit_keeps_nothing(make_uow: UowFactory) -> None:
    async with make_uow() as uow:
        await uow.shelves.add(Shelf("c", 1))
    assert await value_of(make_uow, "c") is None


async def test_an_exception_keeps_nothing(make_uow: UowFactory) -> None:
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.shelves.add(Shelf("c", 1))
            raise RuntimeError("the handler failed")
    assert await value_of(make_uow, "c") is None


async def test_a_rolled_back_savepoint_undoes_only_what_happened_inside(
    make_uow: UowFactory,
) -> None:
    async with make_uow() as uow:
        await uow.shelves.add(Shelf("kept", 1))
        with pytest.raises(RuntimeError):
            async with uow.savepoint():
                await uow.shelves.add(Shelf("undone", 1))
                raise RuntimeError("the nested command failed")
        await uow.commit()
    assert (await value_of(make_uow, "kept"), await value_of(make_uow, "undone")) == (1, None)


async def test_a_savepoint_before_any_write_rolls_back_cleanly(make_uow: UowFactory) -> None:
    # The nested command was the first to touch the database: undoing it undoes everything so
    # far, and the unit of work stays usable for what its parent does next.
    async with make_uow() as uow:
        with pytest.raises(RuntimeError):
            async with uow.savepoint():
                await uow.shelves.add(Shelf("undone", 1))
                raise RuntimeError("the nested command failed")
        await uow.shelves.add(Shelf("kept", 1))
        await uow.commit()
    assert (await value_of(make_uow, "kept"), await value_of(make_uow, "undone")) == (1, None)


async def test_callbacks_run_after_commit_or_close_and_never_after_rollback(
    make_uow: UowFactory,
) -> None:
    calls: list[str] = []
    async with make_uow() as uow:
        uow.on_commit(lambda: calls.append("committed"))
        uow.on_close(lambda: calls.append("closed"))
        await uow.shelves.add(Shelf("c", 1))
        await uow.commit()
    async with make_uow() as uow:
        uow.on_commit(lambda: calls.append("never"))
        uow.on_close(lambda: calls.append("closed after rollback"))
    assert calls == ["committed", "closed", "closed after rollback"]


async def test_a_stale_save_never_overwrites(make_uow: UowFactory) -> None:
    async with make_uow() as uow:
        await uow.shelves.add(Shelf("c", 0))
        await uow.commit()
    first, second = make_uow(), make_uow()
    async with first:
        mine = await first.shelves.get("c")
        mine.quantity = 1
        await first.shelves.save(mine)
        await first.commit()
    async with second:
        stale = Shelf("c", 5)
        stale.version = 1  # what a reader held before the first commit
        with pytest.raises(ConcurrencyError):
            await second.shelves.save(stale)
            await second.commit()
    assert await value_of(make_uow, "c") == 1


async def test_a_finished_unit_of_work_refuses_to_be_used_again(make_uow: UowFactory) -> None:
    uow: UnitOfWork = make_uow()
    async with uow:
        await uow.commit()
    with pytest.raises(UnitOfWorkError):
        async with uow:
            pass
