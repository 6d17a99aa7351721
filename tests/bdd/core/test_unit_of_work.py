"""Scenarios: features/core/unit_of_work.feature.

An ordering service wired as a real one is: `Mediator` with `SqlAlchemyUnitOfWork` (one
session per root command), `OutboxMiddleware` writing to a `BufferedOutbox` over
`SqlAlchemyOutboxStorage`, on a SQLite file whose schema the migrations built. Faults are
injected by a middleware that raises *after* the outbox row was written, before the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from tests.persistence.model import TEST_VERSIONS, Order, ShopUnitOfWork

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage, outbox_table
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.middleware.outbox import OutboxMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry, Next
from cqrs_ddd_core.ports.outbox import OutboxStatus
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError
from tests.conftest import Run
from tests.messaging.support import RecordingPublisher

scenarios("core/unit_of_work.feature")

# --- the service ---------------------------------------------------------------------------


class InjectedFault(Exception):
    """Raised on purpose after the outbox row was written, before the commit."""


class PlaceOrder(Command[str]):
    order_id: str
    total: int = 100
    fail_after_outbox: bool = False
    gift_order_fails: bool | None = None
    """Also place a gift order "<id>-gift" as a nested command (that fails if True)."""


class ChangeOrderTotal(Command[None]):
    order_id: str
    total: int
    based_on_version: int
    """The version the customer saw: the change must not overwrite a newer one."""


@dataclass
class PlaceOrderHandler:
    mediator: Mediator | None = None

    async def handle(self, command: PlaceOrder) -> CommandResponse[str]:
        uow: ShopUnitOfWork = get_current_uow()
        order = Order.place(command.order_id, "c-1", command.total)
        await uow.orders.add(order)
        if command.gift_order_fails is not None and self.mediator is not None:
            gift = PlaceOrder(
                order_id=f"{command.order_id}-gift",
                total=0,
                fail_after_outbox=command.gift_order_fails,
            )
            try:
                await self.mediator.send(gift)
            except InjectedFault:
                pass  # a gift is a nice-to-have: the order goes through without it
        return CommandResponse(result=order.id, events=order.clear_events())


class ChangeOrderTotalHandler:
    async def handle(self, command: ChangeOrderTotal) -> CommandResponse[None]:
        uow: ShopUnitOfWork = get_current_uow()
        order = await uow.orders.get(command.order_id)
        # The customer edited the version they saw; saving checks that it is still current.
        order.version = command.based_on_version
        await asyncio.sleep(0.02)  # the other customer's command runs meanwhile
        order.change_total(command.total)
        await uow.orders.save(order)
        return CommandResponse(result=None, events=order.clear_events())


class FaultAfterOutbox:
    """Raises for commands that ask for it, after the (inner) outbox middleware ran."""

    async def __call__(self, message: Any, next: Next) -> Any:
        response = await next(message)
        if getattr(message, "fail_after_outbox", False):
            raise InjectedFault(f"{type(message).__name__} failed after writing its outbox row")
        return response


@dataclass
class OrderingService:
    engine: AsyncEngine
    session_factory: async_sessionmaker[Any]
    mediator: Mediator
    outbox: BufferedOutbox
    storage: SqlAlchemyOutboxStorage
    broker: RecordingPublisher
    outcomes: dict[int, str] = field(default_factory=dict)

    async def stored_order(self, order_id: str) -> Order | None:
        async with ShopUnitOfWork(self.session_factory) as uow:
            return await uow.orders.find(order_id)

    async def outbox_rows(self) -> list[dict[str, Any]]:
        """Every row of the outbox table, oldest first: (topic, payload, status)."""
        t = outbox_table
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(t.c.topic, t.c.payload, t.c.status).order_by(t.c.created_at)
            )
            return [dict(row) for row in result.mappings()]


async def build_service(directory: Path) -> OrderingService:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'ordering.db'}")
    await upgrade(engine, TEST_VERSIONS)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    storage = SqlAlchemyOutboxStorage(engine)
    broker = RecordingPublisher(name="broker")
    outbox = BufferedOutbox(storage=storage, broker=broker)
    middleware = MiddlewareRegistry()
    middleware.register(FaultAfterOutbox(), priority=10)  # outer: runs after the outbox
    middleware.register(OutboxMiddleware(outbox), priority=20)
    registry = HandlerRegistry()
    place_order = PlaceOrderHandler()
    registry.register_command_handler(PlaceOrder, place_order)
    registry.register_command_handler(ChangeOrderTotal, ChangeOrderTotalHandler())
    mediator = Mediator(
        registry=registry,
        uow_factory=lambda: ShopUnitOfWork(session_factory),
        middleware_registry=middleware,
    )
    place_order.mediator = mediator
    return OrderingService(engine, session_factory, mediator, outbox, storage, broker)


@pytest.fixture
def ordering(run: Run, tmp_path: Path) -> Iterator[OrderingService]:
    service: OrderingService = run(build_service, tmp_path)
    yield service
    run(service.engine.dispose)


# --- steps ---------------------------------------------------------------------------------


@given("an ordering service on a SQLite database with a SQL outbox")
def given_service(ordering: OrderingService) -> None:
    assert ordering.engine.dialect.name == "sqlite"


@given(parsers.parse('order "{order_id}" was placed for {total:d}'))
def order_was_placed(run: Run, ordering: OrderingService, order_id: str, total: int) -> None:
    run(ordering.mediator.send, PlaceOrder(order_id=order_id, total=total))


@when(parsers.parse('the customer places order "{order_id}" for {total:d}'))
def place_order(run: Run, ordering: OrderingService, order_id: str, total: int) -> None:
    run(ordering.mediator.send, PlaceOrder(order_id=order_id, total=total))


@when(parsers.parse('placing order "{order_id}" fails after its outbox row was written'))
def place_order_fails(run: Run, ordering: OrderingService, order_id: str) -> None:
    with pytest.raises(InjectedFault):
        run(ordering.mediator.send, PlaceOrder(order_id=order_id, fail_after_outbox=True))


@when(
    parsers.parse(
        'the customer places order "{order_id}" with a gift order that fails after its '
        "outbox row was written"
    )
)
def place_order_with_failing_gift(run: Run, ordering: OrderingService, order_id: str) -> None:
    run(ordering.mediator.send, PlaceOrder(order_id=order_id, gift_order_fails=True))


@when(
    parsers.parse(
        'two customers change the total of order "{order_id}" at the same time, both from '
        "version {version:d}"
    )
)
def two_concurrent_changes(
    run: Run, ordering: OrderingService, order_id: str, version: int
) -> None:
    async def change(total: int) -> None:
        try:
            await ordering.mediator.send(
                ChangeOrderTotal(order_id=order_id, total=total, based_on_version=version)
            )
            ordering.outcomes[total] = "stored"
        except ConcurrencyError:
            ordering.outcomes[total] = "refused"

    async def both() -> None:
        await asyncio.wait_for(asyncio.gather(change(200), change(300)), timeout=30)

    run(both)


@then(parsers.parse('order "{order_id}" is stored with total {total:d} at version {version:d}'))
def order_is_stored(
    run: Run, ordering: OrderingService, order_id: str, total: int, version: int
) -> None:
    order = run(ordering.stored_order, order_id)
    assert order is not None, f"order {order_id} is not stored"
    assert (order.total, order.version) == (total, version)


@then(parsers.parse('order "{order_id}" is not stored'))
def order_is_not_stored(run: Run, ordering: OrderingService, order_id: str) -> None:
    assert run(ordering.stored_order, order_id) is None


@then(parsers.parse('the outbox holds the "{event_type}" event of order "{order_id}", pending'))
def outbox_holds_pending(
    run: Run, ordering: OrderingService, event_type: str, order_id: str
) -> None:
    rows = run(ordering.outbox_rows)
    assert [(row["topic"], row["payload"]["order_id"], row["status"]) for row in rows] == [
        (event_type, order_id, OutboxStatus.PENDING.value)
    ]


@then(parsers.parse('the outbox holds the "{event_type}" event of order "{order_id}" only'))
def outbox_holds_only(run: Run, ordering: OrderingService, event_type: str, order_id: str) -> None:
    rows = run(ordering.outbox_rows)
    assert [(row["topic"], row["payload"]["order_id"]) for row in rows] == [(event_type, order_id)]


@then("the outbox holds no message")
def outbox_is_empty(run: Run, ordering: OrderingService) -> None:
    assert sum(run(ordering.storage.count_by_status).values()) == 0


@then("after the commit the relay publishes it to the broker")
def relay_publishes(run: Run, ordering: OrderingService) -> None:
    assert run(ordering.outbox.service.process_batch) == 1
    assert [p.topic for p in ordering.broker.published] == ["OrderPlaced"]
    assert run(ordering.storage.count_by_status)[OutboxStatus.PUBLISHED] == 1


@then("one change is stored and the other is refused as stale")
def one_stored_one_refused(ordering: OrderingService) -> None:
    assert sorted(ordering.outcomes.values()) == ["refused", "stored"]


@then(parsers.parse('order "{order_id}" is stored with the winner\'s total at version {version:d}'))
def winner_is_stored(run: Run, ordering: OrderingService, order_id: str, version: int) -> None:
    (winner,) = [total for total, outcome in ordering.outcomes.items() if outcome == "stored"]
    order_is_stored(run, ordering, order_id, winner, version)


@then(parsers.parse('the outbox holds the "{event_type}" event of the winner only'))
def outbox_holds_winner(run: Run, ordering: OrderingService, event_type: str) -> None:
    (winner,) = [total for total, outcome in ordering.outcomes.items() if outcome == "stored"]
    rows = [row for row in run(ordering.outbox_rows) if row["topic"] == event_type]
    assert [row["payload"]["total"] for row in rows] == [winner]
