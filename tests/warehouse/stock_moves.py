"""Moving stock between shelves in memory: the warehouse the locking tests and scenarios drive.

``MoveStockCommand`` names both shelves as critical resources, as every transfer must;
``ReplenishCommand`` locks the reserve shelf and moves stock from it with a *nested*
``MoveStockCommand``, so the nested command re-enters a lock its parent holds.
``StockRoomUnitOfWork`` can take its time to commit (``commit_delay``) and call
``while_committing`` in the middle of the commit, which is how the tests look at the locks at
that moment.

The thing to notice: the handlers never lock anything themselves - the `LockingMiddleware`
reads ``get_critical_resources()`` and holds the locks until the unit of work has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.warehouse.domain import Shelf


def shelf(shelf_id: str) -> ResourceIdentifier:
    """The lock name of a shelf: ``Shelf:<id>``."""
    return ResourceIdentifier("Shelf", shelf_id)


class MoveStockCommand(Command[None]):
    """A transfer with pessimistic locking: both shelves are locked."""

    from_shelf: str
    to_shelf: str
    quantity: int

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        return [shelf(self.from_shelf), shelf(self.to_shelf)]


class ReplenishCommand(Command[None]):
    """Locks the reserve shelf, then moves stock from it through a nested `MoveStockCommand`."""

    reserve: str
    pick_face: str
    quantity: int

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        return [shelf(self.reserve)]


class MoveStockHandler(CommandHandler[None]):
    def __init__(self, room: StockRoom) -> None:
        self._room = room

    async def handle(self, command: MoveStockCommand) -> CommandResponse[None]:
        self._room.handled.append(command.command_id)
        uow: StockRoomUnitOfWork = get_current_uow()
        source = await uow.shelves.get(command.from_shelf)
        target = await uow.shelves.get(command.to_shelf)
        await asyncio.sleep(self._room.think_time)  # where a concurrent move would interleave
        source.take(command.quantity)
        target.put(command.quantity)
        await uow.shelves.save(source)
        await uow.shelves.save(target)
        if self._room.inside_move is not None:
            await self._room.inside_move(command)
        return CommandResponse(result=None)


class ReplenishHandler(CommandHandler[None]):
    def __init__(self, room: StockRoom) -> None:
        self._room = room

    async def handle(self, command: ReplenishCommand) -> CommandResponse[None]:
        move = MoveStockCommand(
            from_shelf=command.reserve, to_shelf=command.pick_face, quantity=command.quantity
        )
        await self._room.mediator.send(move)
        return CommandResponse(result=None)


class StockRoomUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, room: StockRoom) -> None:
        super().__init__(room.store)
        self._room = room
        self.shelves = InMemoryRepository[Shelf](self, "shelves")

    async def _commit(self) -> None:
        if self._room.while_committing is not None:
            await self._room.while_committing()
        await asyncio.sleep(self._room.commit_delay)  # a slow database, say
        await super()._commit()
        self._room.commits += 1


@dataclass
class StockRoom:
    """The composition root of the stock room: store, lock strategy, mediator with locking."""

    locks: ILockStrategy
    lock_timeout: float = 10.0
    store: InMemoryStore = field(default_factory=InMemoryStore)
    think_time: float = 0.001
    commit_delay: float = 0.0
    while_committing: Callable[[], Awaitable[None]] | None = None
    inside_move: Callable[[MoveStockCommand], Awaitable[None]] | None = None
    handled: list[str] = field(default_factory=list)
    commits: int = 0
    middleware: MiddlewareRegistry | None = None
    """``None``: a `LockingMiddleware` over ``locks``, as a service would wire it."""

    def __post_init__(self) -> None:
        self.registry = registry = HandlerRegistry()
        registry.register_command_handler(MoveStockCommand, MoveStockHandler(self))
        registry.register_command_handler(ReplenishCommand, ReplenishHandler(self))
        if self.middleware is None:
            self.middleware = MiddlewareRegistry()
            self.middleware.register(LockingMiddleware(self.locks, timeout=self.lock_timeout))
        self.mediator = Mediator(
            registry=registry,
            uow_factory=lambda: StockRoomUnitOfWork(self),
            middleware_registry=self.middleware,
        )

    async def stock_shelves(self, quantities: dict[str, int]) -> None:
        async with StockRoomUnitOfWork(self) as uow:
            for shelf_id, quantity in quantities.items():
                await uow.shelves.add(Shelf(shelf_id, quantity))
            await uow.commit()
        self.commits = 0

    def quantities(self) -> dict[str, int]:
        """The committed quantity of each shelf."""
        return {
            key: record.value.quantity
            for key, record in self.store.collections.get("shelves", {}).items()
        }
