"""`LockingMiddleware` with the real `Mediator`: locks live as long as the root's transaction.

The stock room of `tests/warehouse/stock_moves.py` moves stock between shelves; a move locks
both shelves, and a replenishment sends a nested move that re-enters its parent's lock.

The thing to notice: the locks are looked at *from inside* the handler and the commit
(``inside_move``, ``while_committing``), so each test sees what another command would meet at
that moment - and the control experiment shows what goes wrong when the lock ends earlier.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.response import QueryResponse
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry, Next
from cqrs_ddd_core.ports.locking import LockInfo
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, LockAcquisitionError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.warehouse.domain import NotEnoughStockError
from tests.warehouse.stock_moves import MoveStockCommand, ReplenishCommand, StockRoom, shelf

SHELF_A = shelf("A")
SHELF_B = shelf("B")


def held(locks: list[LockInfo]) -> dict[ResourceIdentifier, int]:
    return {lock.resource: lock.holds for lock in locks}


@pytest.fixture
async def room() -> StockRoom:
    room = StockRoom(InMemoryLockStrategy())
    await room.stock_shelves({"A": 100, "B": 100, "C": 100})
    return room


async def test_the_locks_are_held_while_the_handler_runs_and_released_after_commit(
    room: StockRoom,
) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look(_: MoveStockCommand) -> None:
        seen.append(held(await room.locks.get_active_locks()))

    room.inside_move = look
    await room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=30))

    assert seen == [{SHELF_A: 1, SHELF_B: 1}]
    assert await room.locks.get_active_locks() == []
    assert room.quantities() == {"A": 70, "B": 130, "C": 100}


async def test_the_locks_are_still_held_during_the_roots_commit(room: StockRoom) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look() -> None:
        seen.append(held(await room.locks.get_active_locks()))

    room.while_committing = look
    await room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=30))

    assert seen == [{SHELF_A: 1, SHELF_B: 1}]
    assert await room.locks.get_active_locks() == []


async def test_the_locks_are_released_after_a_rollback(room: StockRoom) -> None:
    with pytest.raises(NotEnoughStockError, match="cannot take 500"):
        await room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=500))

    assert await room.locks.get_active_locks() == []
    assert room.quantities() == {"A": 100, "B": 100, "C": 100}
    assert room.commits == 0


async def test_a_command_that_cannot_get_its_lock_never_runs_its_handler(
    room: StockRoom,
) -> None:
    room = StockRoom(room.locks, lock_timeout=0.05, store=room.store)
    section = CriticalSection([SHELF_B], room.locks, session_id="someone-else")
    async with section:
        with pytest.raises(LockAcquisitionError) as caught:
            await room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=30))

        assert caught.value.resource == SHELF_B
        assert caught.value.timeout == 0.05
        assert "'someone-else'" in caught.value.reason
        assert room.handled == []
        assert held(await room.locks.get_active_locks()) == {SHELF_B: 1}  # A was let go
    assert room.quantities() == {"A": 100, "B": 100, "C": 100}


async def test_a_handlers_own_error_is_not_retried(room: StockRoom) -> None:
    with pytest.raises(NotEnoughStockError, match="cannot take"):
        await room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=500))

    assert len(room.handled) == 1


async def test_a_nested_command_re_enters_its_parents_lock(room: StockRoom) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look(_: MoveStockCommand) -> None:
        seen.append(held(await room.locks.get_active_locks()))

    room.inside_move = look
    await asyncio.wait_for(
        room.mediator.send(ReplenishCommand(reserve="A", pick_face="B", quantity=40)), 5
    )

    assert seen == [{SHELF_A: 2, SHELF_B: 1}]  # A entered twice: by the parent, then nested
    assert await room.locks.get_active_locks() == []
    assert room.quantities() == {"A": 60, "B": 140, "C": 100}


async def test_moves_sharing_a_shelf_wait_until_the_first_has_committed(room: StockRoom) -> None:
    timeline: list[str] = []
    room.commit_delay = 0.02

    async def enter(command: MoveStockCommand) -> None:
        timeline.append(f"{command.from_shelf} handled")

    async def committing() -> None:
        timeline.append("committing")

    room.inside_move = enter
    room.while_committing = committing
    await asyncio.wait_for(
        asyncio.gather(
            room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=10)),
            room.mediator.send(MoveStockCommand(from_shelf="B", to_shelf="A", quantity=20)),
        ),
        5,
    )

    # The second move's handler starts only after the first one has committed.
    assert timeline == ["A handled", "committing", "B handled", "committing"]
    assert room.quantities() == {"A": 110, "B": 90, "C": 100}


async def test_concurrent_moves_through_the_mediator_lose_no_stock(room: StockRoom) -> None:
    room.commit_delay = 0.001
    names = ["A", "B", "C"]
    moves = [
        MoveStockCommand(from_shelf=names[i % 3], to_shelf=names[(i + 1) % 3], quantity=1)
        for i in range(60)
    ]

    await asyncio.wait_for(asyncio.gather(*(room.mediator.send(m) for m in moves)), 30)

    assert room.quantities() == {"A": 100, "B": 100, "C": 100}
    assert room.commits == 60


class ReleasingWhenTheHandlerReturns:
    """The tempting mistake: a lock released before the commit."""

    def __init__(self, room: StockRoom) -> None:
        self._room = room

    async def __call__(self, message: Any, next: Next) -> Any:
        async with CriticalSection(message.get_critical_resources(), self._room.locks):
            return await next(message)


async def test_releasing_before_the_commit_lets_a_move_read_a_stale_quantity() -> None:
    # The control experiment for the on_close release: same moves, lock released early.
    middleware = MiddlewareRegistry()
    room = StockRoom(InMemoryLockStrategy(), middleware=middleware, commit_delay=0.02)
    middleware.register(ReleasingWhenTheHandlerReturns(room))
    await room.stock_shelves({"A": 100, "B": 100})

    outcomes = await asyncio.gather(
        room.mediator.send(MoveStockCommand(from_shelf="A", to_shelf="B", quantity=10)),
        room.mediator.send(MoveStockCommand(from_shelf="B", to_shelf="A", quantity=20)),
        return_exceptions=True,
    )

    assert any(isinstance(outcome, ConcurrencyError) for outcome in outcomes)


class ShelfQuantityQuery(Query[int]):
    shelf_id: str


class ShelfQuantityHandler(QueryHandler[int]):
    def __init__(self, room: StockRoom) -> None:
        self._room = room

    async def handle(self, query: ShelfQuantityQuery) -> QueryResponse[int]:
        return QueryResponse(result=self._room.quantities()[query.shelf_id])


async def test_queries_pass_through_without_locks(room: StockRoom) -> None:
    room.registry.register_query_handler(ShelfQuantityQuery, ShelfQuantityHandler(room))
    async with CriticalSection([SHELF_A], room.locks, session_id="a-long-move"):
        response = await asyncio.wait_for(room.mediator.send(ShelfQuantityQuery(shelf_id="A")), 1)

    assert response.result == 100
