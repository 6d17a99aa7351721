"""`SqlAlchemyRepository` on SQLite and PostgreSQL: mapping, versions, and no lost update."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, NotFoundError
from tests.persistence.model import Counter, ShopUnitOfWork, counters

SessionFactory = async_sessionmaker[AsyncSession]

# Bounds every wait in this file: a bug fails the test instead of hanging it.
TIMEOUT = 20.0


async def create_counter(session_factory: SessionFactory, counter_id: str, value: int = 0) -> None:
    async with ShopUnitOfWork(session_factory) as uow:
        await uow.counters.add(Counter(counter_id, value))
        await uow.commit()


async def load(session_factory: SessionFactory, counter_id: str) -> Counter:
    async with ShopUnitOfWork(session_factory) as uow:
        return await uow.counters.get(counter_id)


async def test_an_aggregate_comes_back_as_it_was_stored(session_factory: SessionFactory) -> None:
    await create_counter(session_factory, "c", value=41)

    counter = await load(session_factory, "c")

    assert (counter.id, counter.value, counter.version) == ("c", 41, 1)
    assert counter.pending_events == ()


async def test_a_missing_aggregate_is_not_found(session_factory: SessionFactory) -> None:
    async with ShopUnitOfWork(session_factory) as uow:
        assert await uow.counters.find("missing") is None
        with pytest.raises(NotFoundError, match="counters 'missing' was not found"):
            await uow.counters.get("missing")


async def test_each_save_moves_the_version_on(session_factory: SessionFactory) -> None:
    await create_counter(session_factory, "c")
    async with ShopUnitOfWork(session_factory) as uow:
        counter = await uow.counters.get("c")
        counter.increment()
        await uow.counters.save(counter)
        counter.increment()
        await uow.counters.save(counter)  # twice in one transaction: its own write is not stale
        await uow.commit()

    stored = await load(session_factory, "c")
    assert (stored.value, stored.version) == (2, 3)


async def test_list_returns_the_matching_aggregates_by_id(session_factory: SessionFactory) -> None:
    for counter_id, value in [("b", 5), ("a", 1), ("c", 9)]:
        await create_counter(session_factory, counter_id, value)

    async with ShopUnitOfWork(session_factory) as uow:
        everything = await uow.counters.list()
        big = await uow.counters.list(counters.c.value > 2)

    assert [c.id for c in everything] == ["a", "b", "c"]
    assert [(c.id, c.version) for c in big] == [("b", 1), ("c", 1)]


async def test_adding_an_id_that_exists_is_refused(session_factory: SessionFactory) -> None:
    await create_counter(session_factory, "c", value=1)

    async with ShopUnitOfWork(session_factory) as uow:
        with pytest.raises(ConcurrencyError, match="counters 'c'"):
            await uow.counters.add(Counter("c", value=99))
        # The transaction is still usable (no aborted PostgreSQL transaction).
        await uow.counters.add(Counter("d"))
        await uow.commit()

    assert (await load(session_factory, "c")).value == 1
    assert (await load(session_factory, "d")).value == 0


async def test_a_stale_copy_is_refused_and_the_newer_change_kept(
    session_factory: SessionFactory,
) -> None:
    await create_counter(session_factory, "c")
    stale = await load(session_factory, "c")
    fresh = await load(session_factory, "c")
    async with ShopUnitOfWork(session_factory) as uow:
        fresh.value = 10
        await uow.counters.save(fresh)
        await uow.commit()

    async with ShopUnitOfWork(session_factory) as uow:
        stale.value = 20
        with pytest.raises(ConcurrencyError, match=r"expected version 1\); reload it"):
            await uow.counters.save(stale)

    assert (await load(session_factory, "c")).value == 10


async def test_two_writers_holding_the_same_version_one_wins_the_other_is_refused(
    session_factory: SessionFactory,
) -> None:
    """Both read version 1, then both write at once: exactly one write lands.

    The read and the write are separate transactions (a form shown, then submitted), which is
    how a copy goes stale on every database.
    """
    await create_counter(session_factory, "c")
    both_have_read = asyncio.Barrier(2)

    async def read_then_write() -> str:
        counter = await load(session_factory, "c")
        await both_have_read.wait()
        async with ShopUnitOfWork(session_factory) as uow:
            counter.increment()
            await asyncio.sleep(0.01)  # let the other writer reach its UPDATE too
            try:
                await uow.counters.save(counter)
            except ConcurrencyError:
                return "refused"
            await uow.commit()
            return "written"

    outcomes = await asyncio.wait_for(asyncio.gather(read_then_write(), read_then_write()), TIMEOUT)

    assert sorted(outcomes) == ["refused", "written"]
    final = await load(session_factory, "c")
    assert (final.value, final.version) == (1, 2)


async def test_concurrent_read_modify_write_transactions_never_lose_an_update(
    session_factory: SessionFactory,
) -> None:
    """Each writer reads *and* writes in one transaction, with an await in between.

    PostgreSQL (READ COMMITTED) lets both read version 1; the second UPDATE waits for the
    first commit, then matches no row: `ConcurrencyError`. SQLite's ``BEGIN IMMEDIATE``
    makes the second transaction wait before its read, so it reads the first one's result and
    both succeed, one after the other. Either way, no increment is ever lost.
    """
    await create_counter(session_factory, "c")
    is_postgres = session_factory.kw["bind"].dialect.name == "postgresql"
    both_have_read = asyncio.Barrier(2)
    versions_read: list[int] = []

    async def increment() -> str:
        async with ShopUnitOfWork(session_factory) as uow:
            counter = await uow.counters.get("c")
            versions_read.append(counter.version)
            if is_postgres:
                await both_have_read.wait()  # both hold version 1 before anyone writes
            else:
                await asyncio.sleep(0.05)  # the other transaction is waiting to begin
            counter.increment()
            try:
                await uow.counters.save(counter)
            except ConcurrencyError:
                return "refused"
            await uow.commit()
            return "written"

    outcomes = await asyncio.wait_for(asyncio.gather(increment(), increment()), TIMEOUT)

    final = await load(session_factory, "c")
    assert final.value == outcomes.count("written")  # the invariant: no lost update
    if is_postgres:
        assert sorted(outcomes) == ["refused", "written"]
        assert versions_read == [1, 1]
    else:
        assert outcomes == ["written", "written"]
        assert sorted(versions_read) == [1, 2]  # the second read came after the first commit
