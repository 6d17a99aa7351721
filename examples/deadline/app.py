"""A durable deadline: a seat on hold is released unless it is paid for in time.

Run it: ``uv run python -m examples.deadline``. What happens:

1. `HoldSeatCommand` puts a seat on hold and, **in the same transaction**, schedules a
   deadline ("seat-hold" of that seat, due in a moment) in the core's deadlines table. If
   the command rolled back there would be no hold and no deadline.
2. `PaySeatCommand` sells the seat and cancels its deadline, again in one transaction.
3. Two `DeadlineScheduler`s - two replicas of the service - poll the table. When the unpaid
   seat's deadline falls due, one of them claims it with a lease and fires it: it sends
   `ReleaseSeatCommand`. The paid seat's deadline was cancelled and never fires.

Nothing waits in memory: a deadline that fell due while every process was down fires at the
first poll after a start. Firing is at least once (a scheduler may die after firing and before
marking it fired), so `ReleaseSeatCommand` looks at the seat first and does nothing to a seat
that is no longer on hold. Install: ``cqrs-ddd-core[sqlalchemy]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.deadlines import (
    DEADLINES_VERSIONS,
    SqlAlchemyDeadlineStorage,
)
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.deadlines.scheduler import DeadlineScheduler
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.ports.deadlines import Deadline, DeadlineStatus, IDeadlineStorage
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.primitives.context import get_correlation_id

MIGRATIONS = Path(__file__).with_name("migrations")
Say = Callable[[str], None]
HOLD = "seat-hold"

# --- the domain -------------------------------------------------------------------------------


class Seat(AggregateRoot):
    def __init__(self, id: str, status: str = "free", fan: str | None = None) -> None:
        super().__init__(id)
        self.status = status
        self.fan = fan

    def hold(self, fan: str) -> None:
        self.status, self.fan = "held", fan

    def sell(self) -> None:
        self.status = "sold"

    def release(self) -> bool:
        """Free the seat if it is still on hold; ``False`` when there is nothing to release."""
        if self.status != "held":
            return False
        self.status, self.fan = "free", None
        return True


# --- storage ----------------------------------------------------------------------------------

metadata = MetaData()
seats = Table(
    "seats",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("fan", String(64), nullable=True),
)


class SeatRepository(SqlAlchemyRepository[Seat]):
    table = seats

    def _to_row(self, aggregate: Seat) -> dict[str, Any]:
        return {"status": aggregate.status, "fan": aggregate.fan}

    def _from_row(self, row: RowMapping) -> Seat:
        return Seat(row["id"], row["status"], row["fan"])


class UnitOfWork(SqlAlchemyUnitOfWork):
    @property
    def seats(self) -> SeatRepository:
        return SeatRepository(self.session)


def current_uow() -> UnitOfWork:
    uow = get_current_uow()
    assert isinstance(uow, UnitOfWork), "handlers run inside the mediator's unit of work"
    return uow


# --- the commands -----------------------------------------------------------------------------


class HoldSeatCommand(Command[str]):
    seat_id: str
    fan: str


class PaySeatCommand(Command[str]):
    seat_id: str


class ReleaseSeatCommand(Command[bool]):
    seat_id: str


class HoldSeatHandler:
    def __init__(self, deadlines: IDeadlineStorage, hold_for: timedelta) -> None:
        self.deadlines = deadlines
        self.hold_for = hold_for

    async def handle(self, command: HoldSeatCommand) -> CommandResponse[str]:
        uow = current_uow()
        seat = await uow.seats.find(command.seat_id) or Seat(command.seat_id)
        seat.hold(command.fan)
        if seat.version:
            await uow.seats.save(seat)
        else:
            await uow.seats.add(seat)
        deadline = Deadline(
            HOLD,
            command.seat_id,
            due_at=utc_now() + self.hold_for,
            correlation_id=get_correlation_id(),  # firing continues this story
            causation_id=command.command_id,
        )
        await self.deadlines.schedule(deadline, uow=uow)
        return CommandResponse(result=command.seat_id)


class PaySeatHandler:
    def __init__(self, deadlines: IDeadlineStorage) -> None:
        self.deadlines = deadlines

    async def handle(self, command: PaySeatCommand) -> CommandResponse[str]:
        uow = current_uow()
        seat = await uow.seats.get(command.seat_id)
        seat.sell()
        await uow.seats.save(seat)
        await self.deadlines.cancel(HOLD, command.seat_id, uow=uow)
        return CommandResponse(result=command.seat_id)


class ReleaseSeatHandler:
    def __init__(self, say: Say) -> None:
        self.say = say

    async def handle(self, command: ReleaseSeatCommand) -> CommandResponse[bool]:
        uow = current_uow()
        seat = await uow.seats.get(command.seat_id)
        released = seat.release()
        if released:
            await uow.seats.save(seat)
        self.say(f"  deadline fired: {command.seat_id} {'released' if released else 'left as is'}")
        return CommandResponse(result=released)


# --- wiring and the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    seats: dict[str, str]
    fired: int
    """How many times the two schedulers fired a deadline, together."""
    deadlines: dict[DeadlineStatus, int]


async def main(directory: Path, say: Say = print, hold_for: float = 0.3) -> Outcome:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'seats.db'}")
    try:
        await upgrade(engine, MIGRATIONS, DEADLINES_VERSIONS)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        deadlines = SqlAlchemyDeadlineStorage(engine)
        registry = HandlerRegistry()
        registry.register_command_handler(
            HoldSeatCommand, HoldSeatHandler(deadlines, timedelta(seconds=hold_for))
        )
        registry.register_command_handler(PaySeatCommand, PaySeatHandler(deadlines))
        registry.register_command_handler(ReleaseSeatCommand, ReleaseSeatHandler(say))
        mediator = Mediator(registry, lambda: UnitOfWork(sessions))

        async def fire(deadline: Deadline) -> None:
            await mediator.send(ReleaseSeatCommand(seat_id=deadline.key))

        replicas = [DeadlineScheduler(deadlines, fire, poll_interval=0.02) for _ in range(2)]
        for scheduler in replicas:
            await scheduler.start()

        say(f"ada holds seat s-1, bob holds seat s-2: each hold lasts {hold_for}s")
        await mediator.send(HoldSeatCommand(seat_id="s-1", fan="ada"))
        await mediator.send(HoldSeatCommand(seat_id="s-2", fan="bob"))
        await mediator.send(PaySeatCommand(seat_id="s-1"))
        say("ada pays for s-1 in time: its deadline is cancelled in the same transaction")

        await asyncio.sleep(hold_for * 4)  # long past both deadlines, with many polls each
        for scheduler in replicas:
            await scheduler.stop()

        async with UnitOfWork(sessions) as uow:
            states = {s: (await uow.seats.get(s)).status for s in ("s-1", "s-2")}
        outcome = Outcome(
            seats=states,
            fired=sum(scheduler.fired for scheduler in replicas),
            deadlines=await deadlines.count_by_status(),
        )
        say(f"seats {outcome.seats}; deadlines fired {outcome.fired} time(s) by two schedulers")
        return outcome
    finally:
        await engine.dispose()
