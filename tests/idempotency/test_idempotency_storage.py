"""The `IIdempotencyStorage` contract, on every adapter: in memory, SQLite and PostgreSQL.

A stored response is only as good as its storage: it commits with the transaction of the
effects it reports (and vanishes with one rolled back), one ``(caller, key)`` holds one
response however many requests race for it, and an expired response is never replayed.
"""

from __future__ import annotations

import asyncio

import pytest

from cqrs_ddd_core.ports.idempotency import RecordedResponse
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError
from tests.idempotency.conftest import TTL, Backend

CREATED = RecordedResponse(201, b'{"order_id": "o-1"}', "application/json")


async def test_a_response_commits_with_its_transaction_and_vanishes_with_a_rollback(
    backend: Backend,
) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        assert await storage.save("alice", "kept", "f1", CREATED, uow=uow)
        assert await storage.find("alice", "kept") is None  # not before the commit
        await uow.commit()
    async with new_uow() as uow:
        assert await storage.save("alice", "rolled-back", "f1", CREATED, uow=uow)
        await uow.rollback()

    record = await storage.find("alice", "kept")
    assert record is not None
    assert (record.fingerprint, record.response) == ("f1", CREATED)
    assert await storage.find("alice", "rolled-back") is None


async def test_a_key_holds_one_response_and_a_second_save_is_refused(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        await storage.save("alice", "k", "first", CREATED, uow=uow)
        await uow.commit()

    async with new_uow() as uow:
        assert not await storage.save("alice", "k", "second", CREATED, uow=uow)

    record = await storage.find("alice", "k")
    assert record is not None
    assert record.fingerprint == "first"


async def test_two_callers_may_use_the_same_key(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    for caller in ("alice", "bob"):
        async with new_uow() as uow:
            assert await storage.save(caller, "k", f"by-{caller}", CREATED, uow=uow)
            await uow.commit()

    found = [await storage.find(caller, "k") for caller in ("alice", "bob")]
    assert [record.fingerprint for record in found if record] == ["by-alice", "by-bob"]


async def test_of_two_transactions_saving_one_key_at_once_exactly_one_commits(
    backend: Backend,
) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    first_saved = asyncio.Event()

    async def save(fingerprint: str, *, hold: bool) -> bool:
        async with new_uow() as uow:
            if not hold:
                await first_saved.wait()
            if not await storage.save("alice", "k", fingerprint, CREATED, uow=uow):
                return False
            if hold:
                first_saved.set()
                await asyncio.sleep(0.2)  # still uncommitted while the other one saves
            try:
                await uow.commit()
            except ConcurrencyError:  # in memory the loser finds out at its commit
                return False
            return True

    outcomes = await asyncio.wait_for(
        asyncio.gather(save("first", hold=True), save("second", hold=False)), timeout=30
    )

    # On SQL the second waits for the first and is refused; in memory whoever commits first
    # wins (here the second, which does not sleep).
    assert sorted(outcomes) == [False, True]
    record = await storage.find("alice", "k")
    winner = "first" if outcomes[0] else "second"
    assert record is not None
    assert record.fingerprint == winner


async def test_an_expired_response_is_never_replayed_and_its_key_may_be_used_again(
    backend: Backend,
) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        await storage.save("alice", "k", "first", CREATED, uow=uow)
        await uow.commit()

    backend.clock.advance(TTL.total_seconds() + 1)

    assert await storage.find("alice", "k") is None
    async with new_uow() as uow:
        assert await storage.save("alice", "k", "second", CREATED, uow=uow)
        await uow.commit()
    record = await storage.find("alice", "k")
    assert record is not None
    assert record.fingerprint == "second"


async def test_saving_a_response_purges_expired_ones(backend: Backend) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        for n in range(3):
            await storage.save("alice", f"old-{n}", "f", CREATED, uow=uow)
        await uow.commit()
    backend.clock.advance(TTL.total_seconds() + 1)

    async with new_uow() as uow:
        await storage.save("alice", "new", "f", CREATED, uow=uow)
        await uow.commit()

    # Nothing is left for a purge of its own: the save above took the three expired records.
    assert await storage.purge_expired() == 0
    assert await storage.find("alice", "new") is not None


@pytest.mark.parametrize("limit", [1, 2])
async def test_a_purge_deletes_at_most_its_limit(backend: Backend, limit: int) -> None:
    storage, new_uow = backend.storage(), backend.uow_factory()
    async with new_uow() as uow:
        for n in range(3):
            await storage.save("alice", f"old-{n}", "f", CREATED, uow=uow)
        await uow.commit()
    backend.clock.advance(TTL.total_seconds() + 1)

    assert await storage.purge_expired(limit=limit) == limit
    assert await storage.purge_expired() == 3 - limit
