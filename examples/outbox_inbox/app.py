"""A ticket sold, its event relayed by the outbox, a duplicate delivery handled once.

Run it: ``uv run python -m examples.outbox_inbox``. What happens:

1. The **box office** sells a ticket. `SellTicketHandler` adds a `Ticket`; `OutboxMiddleware`
   writes its `TicketSold` event into the outbox table **in the same transaction** - both rows
   commit, or neither does. Nothing talks to the broker yet.
2. After the commit the **relay** (`BufferedOutbox`'s background worker) claims the row and
   publishes it. Here every message goes out twice (`ConfirmLost`), as a real relay does when
   the broker took a message but its confirm was lost: delivery is at least once.
3. Two replicas of the **loyalty** consumer each take one copy, at the same time. Each handles
   its copy in a unit of work that also records the message id in the inbox table: one
   commits and awards the points; the other's inbox record collides, its whole transaction
   rolls back, and when the broker redelivers that copy it is recognised and skipped.

The fan gets the points once. In a real system the loyalty context is another service with a
database of its own; its wiring is the same as here. Install: ``cqrs-ddd-core[sqlalchemy]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import OutboxStatus

MIGRATIONS = Path(__file__).with_name("migrations")
Say = Callable[[str], None]

# --- the domain: no framework here ------------------------------------------------------------


class TicketSold(DomainEvent):
    ticket_id: str
    fan: str
    price: int


class Ticket(AggregateRoot):
    def __init__(self, id: str, fan: str, price: int) -> None:
        super().__init__(id)
        self.fan = fan
        self.price = price

    @classmethod
    def sell(cls, ticket_id: str, fan: str, price: int) -> Ticket:
        ticket = cls(ticket_id, fan, price)
        ticket.add_event(
            TicketSold(aggregate_id=ticket_id, ticket_id=ticket_id, fan=fan, price=price)
        )
        return ticket


class LoyaltyAccount(AggregateRoot):
    """A fan's points: one per euro spent."""

    def __init__(self, id: str, points: int = 0) -> None:
        super().__init__(id)
        self.points = points

    def award(self, points: int) -> None:
        self.points += points


# --- storage: tables (built by migrations/), repositories, the unit of work -------------------

metadata = MetaData()
tickets = Table(
    "tickets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("fan", String(64), nullable=False),
    Column("price", Integer, nullable=False),
)
loyalty_accounts = Table(
    "loyalty_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("points", Integer, nullable=False),
)


class TicketRepository(SqlAlchemyRepository[Ticket]):
    table = tickets

    def _to_row(self, aggregate: Ticket) -> dict[str, Any]:
        return {"fan": aggregate.fan, "price": aggregate.price}

    def _from_row(self, row: RowMapping) -> Ticket:
        return Ticket(row["id"], row["fan"], row["price"])


class LoyaltyRepository(SqlAlchemyRepository[LoyaltyAccount]):
    table = loyalty_accounts

    def _to_row(self, aggregate: LoyaltyAccount) -> dict[str, Any]:
        return {"points": aggregate.points}

    def _from_row(self, row: RowMapping) -> LoyaltyAccount:
        return LoyaltyAccount(row["id"], row["points"])


class UnitOfWork(SqlAlchemyUnitOfWork):
    @property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.session)

    @property
    def loyalty(self) -> LoyaltyRepository:
        return LoyaltyRepository(self.session)


def current_uow() -> UnitOfWork:
    uow = get_current_uow()
    assert isinstance(uow, UnitOfWork), "handlers run inside the mediator's unit of work"
    return uow


# --- the box office: a command and its handler ------------------------------------------------


class SellTicketCommand(Command[str]):
    ticket_id: str
    fan: str
    price: int


class SellTicketHandler:
    async def handle(self, command: SellTicketCommand) -> CommandResponse[str]:
        ticket = Ticket.sell(command.ticket_id, command.fan, command.price)
        await current_uow().tickets.add(ticket)
        # The events go back in the response; OutboxMiddleware stores them in this transaction.
        return CommandResponse(result=ticket.id, events=ticket.clear_events())


# --- loyalty: the consumer's own class for the event, and its handler --------------------------


class FanBoughtTicket(DomainEvent):
    """Loyalty's own model of "TicketSold": the two sides share a name and fields, no class."""

    __event_type__ = "TicketSold"

    fan: str
    price: int


class AwardPoints:
    """The effect: points for the fan. Without the inbox a duplicate would award them twice."""

    def __init__(self, say: Say) -> None:
        self.say = say

    async def handle(self, event: FanBoughtTicket) -> None:
        uow = current_uow()
        account = await uow.loyalty.find(event.fan)
        if account is None:
            account = LoyaltyAccount(event.fan)
            account.award(event.price)
            await uow.loyalty.add(account)
        else:
            account.award(event.price)
            await uow.loyalty.save(account)
        await asyncio.sleep(0.05)  # real work takes a while: the two copies overlap here
        self.say(f"  loyalty: {event.price} points for {event.fan} (not committed yet)")


# --- the relay's publisher, made to lose a confirm --------------------------------------------


class ConfirmLost(IMessagePublisher):
    """Publishes every message twice: what a relay does after a lost publisher confirm."""

    def __init__(self, broker: IMessagePublisher) -> None:
        self.broker = broker

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await self.broker.publish(topic, message, **kwargs)
        await self.broker.publish(topic, message, **kwargs)


# --- wiring and the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    points: int
    deliveries: int
    processed: int
    duplicates: int
    published_rows: int


def box_office(engine: AsyncEngine, outbox: BufferedOutbox) -> Mediator:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    registry = HandlerRegistry()
    registry.register_command_handler(SellTicketCommand, SellTicketHandler())
    middleware = MiddlewareRegistry()
    middleware.register(OutboxMiddleware(outbox))
    return Mediator(registry, lambda: UnitOfWork(sessions), middleware_registry=middleware)


def loyalty_replica(engine: AsyncEngine, broker: InMemoryBroker, say: Say) -> BaseEventConsumer:
    """One replica of the loyalty consumer; replicas share the queue and the inbox key."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    handlers = HandlerRegistry()
    handlers.register_event_handler(FanBoughtTicket, AwardPoints)
    return BaseEventConsumer(
        broker=broker,
        topics=["TicketSold"],
        handler_registry=handlers,
        handler_factory=lambda cls: cls(say),
        queue_name="loyalty",
        inbox=SqlAlchemyInboxStorage(engine),
        uow_factory=lambda: UnitOfWork(sessions),
    )


async def main(directory: Path, say: Say = print) -> Outcome:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'tickets.db'}")
    broker = InMemoryBroker(redelivery_delay=0.05)
    try:
        await upgrade(engine, MIGRATIONS)  # the core's tables, then ours
        outbox_storage = SqlAlchemyOutboxStorage(engine)
        outbox = BufferedOutbox(outbox_storage, ConfirmLost(broker), poll_interval=0.5)
        mediator = box_office(engine, outbox)
        replicas = [loyalty_replica(engine, broker, say) for _ in range(2)]
        for replica in replicas:  # consumers first: the queue must exist before a publish
            await replica.start()
        await outbox.start()

        say("box office: selling ticket t-1 to ada for 40")
        response = await mediator.send(SellTicketCommand(ticket_id="t-1", fan="ada", price=40))
        say(f"box office: sold {response.result}; the ticket and its outbox row committed together")

        await _until(lambda: len(broker.published) == 2)
        say("relay: published TicketSold twice (its first confirm was lost)")
        await broker.drain(timeout=10)
        await outbox.stop()
        for replica in replicas:
            await replica.stop()

        async with UnitOfWork(async_sessionmaker(engine, expire_on_commit=False)) as uow:
            points = (await uow.loyalty.get("ada")).points
        outcome = Outcome(
            points=points,
            deliveries=broker.delivered_count("loyalty"),
            processed=sum(r.processed for r in replicas),
            duplicates=sum(r.duplicates for r in replicas),
            published_rows=(await outbox_storage.count_by_status())[OutboxStatus.PUBLISHED],
        )
        say(
            f"loyalty: {outcome.deliveries} deliveries, {outcome.processed} processed, "
            f"{outcome.duplicates} recognised as a duplicate"
        )
        say(f"ada has {outcome.points} points: the duplicate had no effect")
        return outcome
    finally:
        await broker.stop()
        await engine.dispose()


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - a few polls in a demo read simpler than events
            await asyncio.sleep(0.01)
