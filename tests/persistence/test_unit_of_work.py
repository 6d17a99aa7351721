"""`SqlAlchemyUnitOfWork` on SQLite and PostgreSQL: commit, rollback, savepoints, callbacks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.ports.outbox import OutboxMessage
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError
from tests.warehouse.sql import Shelf, WarehouseSqlUnitOfWork, shelves

SessionFactory = async_sessionmaker[AsyncSession]


class InjectedFault(Exception):
    """Raised on purpose inside a transaction."""


async def stored_quantity(session_factory: SessionFactory, shelf_id: str) -> int | None:
    """The committed quantity of a shelf, read in a fresh unit of work (None: no such row)."""
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        shelf = await uow.shelves.find(shelf_id)
        return None if shelf is None else shelf.quantity


async def test_a_commit_makes_every_write_durable(session_factory: SessionFactory) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("a", quantity=1))
        await uow.shelves.add(Shelf("b", quantity=2))
        await uow.commit()

    assert await stored_quantity(session_factory, "a") == 1
    assert await stored_quantity(session_factory, "b") == 2


async def test_an_exception_rolls_back_every_write(session_factory: SessionFactory) -> None:
    with pytest.raises(InjectedFault):
        async with WarehouseSqlUnitOfWork(session_factory) as uow:
            await uow.shelves.add(Shelf("a", quantity=1))
            raise InjectedFault

    assert await stored_quantity(session_factory, "a") is None


async def test_leaving_without_a_commit_keeps_nothing(session_factory: SessionFactory) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("a", quantity=1))

    assert await stored_quantity(session_factory, "a") is None


async def test_a_rolled_back_savepoint_is_really_undone(session_factory: SessionFactory) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("parent", quantity=1))
        with pytest.raises(InjectedFault):
            async with uow.savepoint():
                await uow.shelves.add(Shelf("nested", quantity=2))
                parent = await uow.shelves.get("parent")
                parent.restock()
                await uow.shelves.save(parent)
                raise InjectedFault
        # Inside the transaction already, the nested writes are gone...
        assert await uow.shelves.find("nested") is None
        assert (await uow.shelves.get("parent")).quantity == 1
        await uow.commit()

    # ...and what commits is the parent's work alone.
    assert await stored_quantity(session_factory, "parent") == 1
    assert await stored_quantity(session_factory, "nested") is None


async def test_a_database_error_inside_a_savepoint_leaves_the_parent_usable(
    session_factory: SessionFactory,
) -> None:
    # PostgreSQL aborts a whole transaction on an error - unless a savepoint contains it.
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("parent", quantity=1))
        with pytest.raises(IntegrityError):
            async with uow.savepoint():
                await uow.session.execute(
                    insert(shelves).values(id="parent", version=1, quantity=2)
                )
        await uow.shelves.add(Shelf("after", quantity=3))
        await uow.commit()

    assert await stored_quantity(session_factory, "parent") == 1
    assert await stored_quantity(session_factory, "after") == 3


async def test_a_released_savepoint_commits_with_its_parent(
    session_factory: SessionFactory,
) -> None:
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        async with uow.savepoint():
            await uow.shelves.add(Shelf("nested", quantity=2))
        await uow.commit()

    assert await stored_quantity(session_factory, "nested") == 2


async def test_on_commit_callbacks_run_only_after_the_commit(
    session_factory: SessionFactory,
) -> None:
    seen_by_callback: list[int | None] = []

    async def look_from_another_transaction() -> None:
        seen_by_callback.append(await stored_quantity(session_factory, "a"))

    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("a", quantity=7))
        uow.on_commit(look_from_another_transaction)
        assert seen_by_callback == []
        await uow.commit()

    # The callback ran once, and already saw the committed row from outside.
    assert seen_by_callback == [7]


async def test_a_rollback_drops_the_on_commit_callbacks(session_factory: SessionFactory) -> None:
    called: list[str] = []
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("a"))
        uow.on_commit(lambda: called.append("on_commit"))
        await uow.rollback()

    assert called == []


async def test_a_rolled_back_savepoint_drops_its_callbacks(
    session_factory: SessionFactory,
) -> None:
    called: list[str] = []
    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        uow.on_commit(lambda: called.append("parent"))
        with pytest.raises(InjectedFault):
            async with uow.savepoint():
                uow.on_commit(lambda: called.append("nested"))
                raise InjectedFault
        await uow.commit()

    assert called == ["parent"]


async def test_the_session_is_closed_and_its_connection_returned(engine: AsyncEngine) -> None:
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    with pytest.raises(InjectedFault):
        async with WarehouseSqlUnitOfWork(session_factory) as uow:
            await uow.shelves.add(Shelf("a"))
            raise InjectedFault

    assert engine.sync_engine.pool.checkedout() == 0
    with pytest.raises(UnitOfWorkError, match="inside 'async with uow:'"):
        _ = uow.session


async def test_the_outbox_joins_the_unit_of_work_transaction(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    outbox = SqlAlchemyOutboxStorage(engine)
    committed = OutboxMessage.create("Counted", {"event_type": "Counted", "n": 1})
    rolled_back = OutboxMessage.create("Counted", {"event_type": "Counted", "n": 2})

    async with WarehouseSqlUnitOfWork(session_factory) as uow:
        await uow.shelves.add(Shelf("a"))
        await outbox.save([committed], uow=uow)
        if engine.dialect.name == "postgresql":
            # Invisible to everyone else before the commit. (On SQLite another transaction
            # cannot even begin before this one ends: BEGIN IMMEDIATE waits for it.)
            assert await outbox.get(committed.message_id) is None
        await uow.commit()
    with pytest.raises(InjectedFault):
        async with WarehouseSqlUnitOfWork(session_factory) as uow:
            await uow.shelves.add(Shelf("b"))
            await outbox.save([rolled_back], uow=uow)
            raise InjectedFault

    assert await outbox.get(committed.message_id) is not None
    assert await stored_quantity(session_factory, "a") == 0
    assert await outbox.get(rolled_back.message_id) is None
    assert await stored_quantity(session_factory, "b") is None


async def test_the_outbox_refuses_a_unit_of_work_it_cannot_share(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outbox = SqlAlchemyOutboxStorage(engine)
    message = OutboxMessage.create("Counted", {"event_type": "Counted"})

    async with InMemoryUnitOfWork() as memory_uow:
        with pytest.raises(TypeError, match="SqlAlchemyUnitOfWork"):
            await outbox.save([message], uow=memory_uow)

    other_database = tmp_path_factory.mktemp("other") / "other.db"
    other_engine = create_engine(f"sqlite+aiosqlite:///{other_database}")
    try:
        async with SqlAlchemyUnitOfWork(async_sessionmaker(other_engine)) as other_uow:
            with pytest.raises(ValueError, match="one transaction cannot span two databases"):
                await outbox.save([message], uow=other_uow)
    finally:
        await other_engine.dispose()


class RecordVisit(Command[None]):
    visit_id: str
    fail: bool = False


async def test_the_storages_join_the_unit_of_work_of_the_command_being_handled(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    """Inside a handler, outbox and inbox need no ``uow=``: they find the mediator's."""
    outbox = SqlAlchemyOutboxStorage(engine)
    inbox = SqlAlchemyInboxStorage(engine)

    class RecordVisitHandler:
        async def handle(self, command: RecordVisit) -> CommandResponse[None]:
            uow: WarehouseSqlUnitOfWork = get_current_uow()
            await uow.shelves.add(Shelf(command.visit_id))
            await inbox.mark_processed(command.visit_id, "visits")
            await outbox.save(
                [
                    OutboxMessage.create(
                        "Visited", {"event_type": "Visited"}, message_id=command.visit_id
                    )
                ]
            )
            if command.fail:
                raise InjectedFault
            return CommandResponse(result=None)

    registry = HandlerRegistry()
    registry.register_command_handler(RecordVisit, RecordVisitHandler())
    mediator = Mediator(registry, uow_factory=lambda: WarehouseSqlUnitOfWork(session_factory))

    await mediator.send(RecordVisit(visit_id="kept"))
    with pytest.raises(InjectedFault):
        await mediator.send(RecordVisit(visit_id="undone", fail=True))

    assert await stored_quantity(session_factory, "kept") == 0
    assert await inbox.has_processed("kept", "visits")
    assert await outbox.get("kept") is not None
    assert await stored_quantity(session_factory, "undone") is None
    assert not await inbox.has_processed("undone", "visits")
    assert await outbox.get("undone") is None


class OpenShelf(Command[None]):
    shelf_id: str


class FindShelf(Query[int | None]):
    shelf_id: str


async def test_a_query_reads_a_snapshot_while_a_command_is_still_writing(
    session_factory: SessionFactory,
) -> None:
    """A query's unit of work is read-only: on SQLite it does not queue for the write lock."""
    written, finish = asyncio.Event(), asyncio.Event()

    class OpenShelfHandler:
        async def handle(self, command: OpenShelf) -> CommandResponse[None]:
            uow: WarehouseSqlUnitOfWork = get_current_uow()
            await uow.shelves.add(Shelf(command.shelf_id))
            await uow.session.flush()  # the row is written: the transaction holds the lock
            written.set()
            await finish.wait()
            return CommandResponse(result=None)

    class FindShelfHandler:
        async def handle(self, query: FindShelf) -> QueryResponse[int | None]:
            uow: WarehouseSqlUnitOfWork = get_current_uow()
            shelf = await uow.shelves.find(query.shelf_id)
            return QueryResponse(result=None if shelf is None else shelf.quantity)

    registry = HandlerRegistry()
    registry.register_command_handler(OpenShelf, OpenShelfHandler())
    registry.register_query_handler(FindShelf, FindShelfHandler())
    mediator = Mediator(registry, uow_factory=lambda: WarehouseSqlUnitOfWork(session_factory))

    command = asyncio.create_task(mediator.send(OpenShelf(shelf_id="c")))
    await written.wait()
    async with asyncio.timeout(20.0):  # a hang guard, under SQLite's 30 s busy timeout
        during = await mediator.send(FindShelf(shelf_id="c"))
    finish.set()
    await command
    after = await mediator.send(FindShelf(shelf_id="c"))

    assert during.result is None, "the query saw a write that was not committed yet"
    assert after.result == 0
