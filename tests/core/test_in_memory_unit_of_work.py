"""InMemoryUnitOfWork: a real transaction over dictionaries."""

from __future__ import annotations

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, NotFoundError, UnitOfWorkError
from tests.warehouse.domain import Shipment


async def test_writes_become_visible_only_on_commit() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(Shipment("s-1", "acme", 10))
        assert store.keys("shipments") == []
        await uow.commit()
    assert store.keys("shipments") == ["s-1"]


async def test_leaving_without_commit_rolls_back() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(Shipment("s-1", "acme", 10))
    assert store.keys("shipments") == []


async def test_a_loaded_aggregate_is_a_copy_until_saved() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(Shipment("s-1", "acme", 10))
        await uow.commit()
    async with InMemoryUnitOfWork(store) as uow:
        shipment = await InMemoryRepository[Shipment](uow, "shipments").get("s-1")
        shipment.supplier = "changed but never saved"
        await uow.commit()
    async with InMemoryUnitOfWork(store) as uow:
        assert (await InMemoryRepository[Shipment](uow, "shipments").get("s-1")).supplier == "acme"


async def test_pending_events_are_not_stored_with_the_aggregate() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(
            Shipment.receive("s-1", "acme", 10)
        )
        await uow.commit()
    async with InMemoryUnitOfWork(store) as uow:
        shipment = await InMemoryRepository[Shipment](uow, "shipments").get("s-1")
    assert shipment.pending_events == ()
    assert shipment.version == 1


async def test_a_stale_save_fails_the_commit_instead_of_losing_an_update() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(Shipment("s-1", "acme", 10))
        await uow.commit()
    first, second = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
    async with first, second:
        mine = await InMemoryRepository[Shipment](first, "shipments").get("s-1")
        theirs = await InMemoryRepository[Shipment](second, "shipments").get("s-1")
        mine.supplier, theirs.supplier = "mine", "theirs"
        await InMemoryRepository[Shipment](first, "shipments").save(mine)
        await InMemoryRepository[Shipment](second, "shipments").save(theirs)
        await first.commit()
        with pytest.raises(ConcurrencyError, match="changed by someone else"):
            await second.commit()
    async with InMemoryUnitOfWork(store) as uow:
        assert (await InMemoryRepository[Shipment](uow, "shipments").get("s-1")).supplier == "mine"


async def test_a_rolled_back_savepoint_undoes_only_what_happened_inside() -> None:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        shipments = InMemoryRepository[Shipment](uow, "shipments")
        await shipments.add(Shipment("kept", "acme", 10))
        with pytest.raises(RuntimeError):
            async with uow.savepoint():
                await shipments.add(Shipment("undone", "acme", 10))
                uow.on_commit(lambda: None)
                raise RuntimeError("nested failure")
        await uow.commit()
    assert store.keys("shipments") == ["kept"]


async def test_on_commit_runs_after_commit_and_never_after_rollback() -> None:
    calls: list[str] = []
    async with InMemoryUnitOfWork() as uow:
        uow.on_commit(lambda: calls.append("committed"))
        uow.on_close(lambda: calls.append("closed"))
        await uow.commit()
    async with InMemoryUnitOfWork() as uow:
        uow.on_commit(lambda: calls.append("never"))
        uow.on_close(lambda: calls.append("closed after rollback"))
    assert calls == ["committed", "closed", "closed after rollback"]


async def test_a_failing_on_commit_callback_does_not_undo_the_commit() -> None:
    store = InMemoryStore()

    def boom() -> None:
        raise RuntimeError("notification service down")

    async with InMemoryUnitOfWork(store) as uow:
        await InMemoryRepository[Shipment](uow, "shipments").add(Shipment("s-1", "acme", 10))
        uow.on_commit(boom)
        await uow.commit()
    assert store.keys("shipments") == ["s-1"]


async def test_a_finished_unit_of_work_refuses_to_be_used_again() -> None:
    uow = InMemoryUnitOfWork()
    async with uow:
        await uow.commit()
    with pytest.raises(UnitOfWorkError, match="already used"):
        async with uow:
            pass
    with pytest.raises(UnitOfWorkError, match="committed"):
        uow.on_commit(lambda: None)


async def test_get_of_a_missing_aggregate_names_it() -> None:
    async with InMemoryUnitOfWork() as uow:
        with pytest.raises(NotFoundError, match="shipments 'nope' was not found"):
            await InMemoryRepository[Shipment](uow, "shipments").get("nope")
