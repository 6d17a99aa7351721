"""Scenarios: features/core/transfer_funds.feature - a transfer locks both shelves until it ends.

The real Mediator, LockingMiddleware, InMemoryLockStrategy and InMemoryUnitOfWork, over the
warehouse's stock room (tests/warehouse/stock_moves.py).
The words of the feature: a move is a `MoveStockCommand` (both shelves are its critical
resources), replenishing a `ReplenishCommand` that sends the move nested, "in the books"
committed, the front desk the `Mediator` with its `LockingMiddleware`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError
from tests.conftest import Run
from tests.warehouse.stock_moves import MoveStockCommand, ReplenishCommand, StockRoom, shelf

scenarios("core/transfer_funds.feature")


ANOTHER_CLERK = "another-clerk"
"""The session that holds a shelf's lock in the refusal scenario."""


@dataclass
class World:
    room: StockRoom = field(default_factory=lambda: StockRoom(InMemoryLockStrategy()))
    completed: int = 0
    expected: int = 0
    timeline: list[str] = field(default_factory=list)
    seen_holds: list[dict[str, int]] = field(default_factory=list)
    error: LockAcquisitionError | None = None


@pytest.fixture
def world() -> World:
    return World()


def move(source: str, target: str, quantity: int) -> MoveStockCommand:
    return MoveStockCommand(from_shelf=source, to_shelf=target, quantity=quantity)


async def holds_now(room: StockRoom) -> dict[str, int]:
    return {str(lock.resource): lock.holds for lock in await room.locks.get_active_locks()}


@given("a stock room whose front desk locks the shelves a move touches")
def a_stock_room(world: World) -> None:
    assert isinstance(world.room.locks, InMemoryLockStrategy)


@given(parsers.parse('shelf "{name}" holding {quantity:d} units'))
def a_shelf(world: World, run: Run, name: str, quantity: int) -> None:
    run(world.room.stock_shelves, {name: quantity})


@given(parsers.parse('shelf "{name}" is locked by another clerk'))
def locked_elsewhere(world: World, run: Run, name: str) -> None:
    section = CriticalSection([shelf(name)], world.room.locks, session_id=ANOTHER_CLERK)
    run(section.acquire)


@when(
    parsers.parse(
        '{n:d} moves of {quantity:d} unit from "{a:w}" to "{b:w}" and {m:d} from "{b2:w}" '
        'to "{a2:w}" run at once'
    )
)
def opposite_transfers(
    world: World, run: Run, n: int, quantity: int, a: str, b: str, m: int, b2: str, a2: str
) -> None:
    commands = [move(a, b, quantity) for _ in range(n)] + [move(b2, a2, quantity) for _ in range(m)]
    world.expected = len(commands)

    async def all_at_once() -> None:
        responses = await asyncio.wait_for(
            asyncio.gather(*(world.room.mediator.send(c) for c in commands)), 30
        )
        world.completed = sum(1 for response in responses if response.success)

    run(all_at_once)


@when(
    parsers.parse(
        'shelf "{pick_face:w}" is replenished with {quantity:d} units from reserve shelf '
        '"{reserve:w}", the replenishment asking for the move'
    )
)
def replenish(world: World, run: Run, pick_face: str, quantity: int, reserve: str) -> None:
    async def look(_: MoveStockCommand) -> None:
        world.seen_holds.append(await holds_now(world.room))

    world.room.inside_move = look
    command = ReplenishCommand(reserve=reserve, pick_face=pick_face, quantity=quantity)

    async def replenish_now() -> None:
        await asyncio.wait_for(world.room.mediator.send(command), 5)

    run(replenish_now)


@when(
    parsers.parse(
        '{x:d} units move from "{a:w}" to "{b:w}" while {y:d} units move from "{b2:w}" to "{a2:w}"'
    )
)
def two_unrelated_transfers(
    world: World, run: Run, x: int, a: str, b: str, y: int, b2: str, a2: str
) -> None:
    async def entered(command: MoveStockCommand) -> None:
        world.timeline.append(f"handled {command.from_shelf}")

    async def committing() -> None:
        world.timeline.append("committed")

    world.room.inside_move = entered
    world.room.while_committing = committing
    world.room.commit_delay = 0.02  # a slow commit: the window a lost update would need

    async def both() -> None:
        sends = (
            world.room.mediator.send(move(a, b, x)),
            world.room.mediator.send(move(b2, a2, y)),
        )
        await asyncio.wait_for(asyncio.gather(*sends), 5)

    run(both)


@when(parsers.parse('{x:d} units move from "{a:w}" to "{b:w}"'))
def one_transfer(world: World, run: Run, x: int, a: str, b: str) -> None:
    async def look() -> None:
        world.seen_holds.append(await holds_now(world.room))

    world.room.while_committing = look
    run(world.room.mediator.send, move(a, b, x))


@when(
    parsers.parse(
        '{x:d} units move from "{a:w}" to "{b:w}", waiting up to {timeout:g} seconds for the locks'
    )
)
def transfer_with_timeout(world: World, run: Run, x: int, a: str, b: str, timeout: float) -> None:
    impatient = StockRoom(world.room.locks, lock_timeout=timeout, store=world.room.store)
    world.room = impatient
    with pytest.raises(LockAcquisitionError) as caught:
        run(impatient.mediator.send, move(a, b, x))
    world.error = caught.value


@then("every move was done")
def every_transfer_completed(world: World) -> None:
    assert world.completed == world.expected > 0


@then(parsers.parse('shelf "{name}" holds {quantity:d} units'))
def holds_quantity(world: World, name: str, quantity: int) -> None:
    assert world.room.quantities()[name] == quantity


@then("nothing is locked")
def no_lock_is_held(world: World, run: Run) -> None:
    assert run(world.room.locks.get_active_locks) == []


@then(parsers.parse('only shelf "{name}" is locked'))
def only_is_held(world: World, run: Run, name: str) -> None:
    assert list(run(holds_now, world.room)) == [str(shelf(name))]


@then(
    parsers.parse(
        'during the move, shelf "{name}" was locked twice: by the replenishment and by the move'
    )
)
def nested_found(world: World, name: str) -> None:
    [seen] = world.seen_holds
    assert seen[str(shelf(name))] == 2


@then("the second move started only after the first was in the books")
def second_after_first(world: World) -> None:
    assert world.timeline == ["handled A", "committed", "handled B", "committed"]


@then("both shelves were locked while the move was written to the books")
def locked_while_committing(world: World) -> None:
    assert world.seen_holds == [{"Shelf:A": 1, "Shelf:B": 1}]


@then(parsers.parse('the move is refused because the other clerk has locked shelf "{name}"'))
def refused_for(world: World, name: str) -> None:
    assert world.error is not None
    assert str(world.error.resource) == str(shelf(name))
    assert ANOTHER_CLERK in world.error.reason


@then("the move was never started")
def handler_never_ran(world: World) -> None:
    assert world.room.handled == []
