"""`SqlAlchemyRepository` on SQLite and PostgreSQL: mapping, versions, and no lost update."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, NotFoundError
from tests.warehouse.sql import Shelf, WarehouseSqlUnitOfWork, shelves

SessionFactory = async_sessionmaker[AsyncSession]

# Bounds every wait in this file: a bug fails the test instead of hanging it.
TIMEOUT = 20.0


async def create_shelf(session_factory: SessionFactory, shelf_id: str, quantity: int = 0) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf(shelf_id, quantity))
        await uow.commit()


async def load(session_factory: SessionFactory, shelf_id: str) -> Shelf:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        return await uow.shelves.get(shelf_id)


async def test_an_aggregate_comes_back_as_it_was_stored(session_factory: SessionFactory) -> None:
    await create_shelf(session_factory, "c", quantity=41)

    shelf = await load(session_factory, "c")

    assert (shelf.id, shelf.quantity, shelf.version) == ("c", 41, 1)
    assert shelf.pending_events == ()


async def test_a_missing_aggregate_is_not_found(session_factory: SessionFactory) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        assert await uow.shelves.find("missing") is None
        with pytest.raises(NotFoundError, match="shelves 'missing' was not found"):
            await uow.shelves.get("missing")


async def test_each_save_moves_the_version_on(session_factory: SessionFactory) -> None:
    await create_shelf(session_factory, "c")
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        shelf = await uow.shelves.get("c")
        shelf.restock()
        await uow.shelves.save(shelf)
        shelf.restock()
        await uow.shelves.save(shelf)  # twice in one transaction: its own write is not stale
        await uow.commit()

    stored = await load(session_factory, "c")
    assert (stored.quantity, stored.version) == (2, 3)


async def test_list_returns_the_matching_aggregates_by_id(session_factory: SessionFactory) -> None:
    for shelf_id, quantity in [("b", 5), ("a", 1), ("c", 9)]:
        await create_shelf(session_factory, shelf_id, quantity)

    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        everything = await uow.shelves.list()
        big = await uow.shelves.list(shelves.c.quantity > 2)

    assert [c.id for c in everything] == ["a", "b", "c"]
    assert [(c.id, c.version) for c in big] == [("b", 1), ("c", 1)]


async def test_adding_an_id_that_exists_is_refused(session_factory: SessionFactory) -> None:
    await create_shelf(session_factory, "c", quantity=1)

    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        with pytest.raises(ConcurrencyError, match="shelves 'c'"):
            await uow.shelves.add(Shelf("c", quantity=99))
        # The transaction is still usable (no aborted PostgreSQL transaction).
        await uow.shelves.add(Shelf("d"))
        await uow.commit()

    assert (await load(session_factory, "c")).quantity == 1
    assert (await load(session_factory, "d")).quantity == 0


async def test_a_stale_copy_is_refused_and_the_newer_change_kept(
    session_factory: SessionFactory,
) -> None:
    await create_shelf(session_factory, "c")
    stale = await load(session_factory, "c")
    fresh = await load(session_factory, "c")
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        fresh.quantity = 10
        await uow.shelves.save(fresh)
        await uow.commit()

    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        stale.quantity = 20
        with pytest.raises(ConcurrencyError, match=r"expected version 1\); reload it"):
            await uow.shelves.save(stale)

    assert (await load(session_factory, "c")).quantity == 10


async def test_two_writers_holding_the_same_version_one_wins_the_other_is_refused(
    session_factory: SessionFactory,
) -> None:
    """Both read version 1, then both write at once: exactly one write lands.

    The read and the write are separate transactions (a form shown, then submitted), which is
    how a copy goes stale on every database.
    """
    await create_shelf(session_factory, "c")
    both_have_read = asyncio.Barrier(2)

    async def read_then_write() -> str:
        shelf = await load(session_factory, "c")
        await both_have_read.wait()
        async with WarehouseSqlUnitOfWork(session_factory) as uow:
            shelf.restock()
            await asyncio.sleep(0.01)  # let the other writer reach its UPDATE too
            try:
                await uow.shelves.save(shelf)
            except ConcurrencyError:
                return "refused"
            await uow.commit()
            return "written"

    outcomes = await asyncio.wait_for(asyncio.gather(read_then_write(), read_then_write()), TIMEOUT)

    assert sorted(outcomes) == ["refused", "written"]
    final = await load(session_factory, "c")
    assert (final.quantity, final.version) == (1, 2)


async def test_concurrent_read_modify_write_transactions_never_lose_an_update(
    session_factory: SessionFactory,
) -> None:
    """Each writer reads *and* writes in one transaction, with an await in between.

    PostgreSQL (READ COMMITTED) lets both read version 1; the second UPDATE waits for the
    first commit, then matches no row: `ConcurrencyError`. SQLite's ``BEGIN IMMEDIATE``
    makes the second transaction wait before its read, so it reads the first one's result and
    both succeed, one after the other. Either way, no increment is ever lost.
    """
    await create_shelf(session_factory, "c")
    is_postgres = session_factory.kw["bind"].dialect.name == "postgresql"
    both_have_read = asyncio.Barrier(2)
    versions_read: list[int] = []

    async def increment() -> str:
        async with WarehouseSqlUnitOfWork(session_factory) as uow:
            shelf = await uow.shelves.get("c")
            versions_read.append(shelf.version)
            if is_postgres:
                await both_have_read.wait()  # both hold version 1 before anyone writes
            else:
                await asyncio.sleep(0.05)  # the other transaction is waiting to begin
            shelf.restock()
            try:
                await uow.shelves.save(shelf)
            except ConcurrencyError:
                return "refused"
            await uow.commit()
            return "written"

    outcomes = await asyncio.wait_for(asyncio.gather(increment(), increment()), TIMEOUT)

    final = await load(session_factory, "c")
    assert final.quantity == outcomes.count("written")  # the invariant: no lost update
    if is_postgres:
        assert sorted(outcomes) == ["refused", "written"]
        assert versions_read == [1, 1]
    else:
        assert outcomes == ["written", "written"]
        assert sorted(versions_read) == [1, 2]  # the second read came after the first commit
