"""Steps about the kernel's shop (tests/core/shop.py), shared by the mediator features."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from tests.conftest import Run
from tests.core.shop import (
    GetOrderQuery,
    OrderPlaced,
    PlaceOrderCommand,
    RecordingMiddleware,
    ReserveStockCommand,
    Shop,
    StockReserved,
    build_shop,
)


@dataclass
class World:
    shop: Shop | None = None
    responses: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    seen_in_task: list[Any] = field(default_factory=list)

    @property
    def the_shop(self) -> Shop:
        assert self.shop is not None, "no shop yet: start with 'Given a shop ...'"
        return self.shop


@pytest.fixture
def world() -> World:
    return World()


class UnhandledCommand(Command[None]):
    pass


class SpawnCommand(Command[None]):
    pass


@given("a shop whose mediator logs every message")
def a_shop(world: World) -> None:
    world.shop = build_shop()
    world.the_shop.middleware.register(LoggingMiddleware(logging.getLogger("shop")), priority=0)


@given("the order handler fails after writing")
def order_handler_fails(world: World) -> None:
    world.the_shop.faults.stages.add("handler")


@given("the stock reservation fails")
def reservation_fails(world: World) -> None:
    world.the_shop.faults.stages.add("nested")


@given("the in-process event handler fails")
def event_handler_fails(world: World) -> None:
    world.the_shop.faults.stages.add("event_handler")


@given(
    parsers.parse('middleware "{outer}" with priority {p1:d} and "{inner}" with priority {p2:d}')
)
def two_middlewares(world: World, outer: str, p1: int, inner: str, p2: int) -> None:
    shop = world.the_shop
    shop.middleware.register(RecordingMiddleware(inner, shop.seen, shop.faults), priority=p2)
    shop.middleware.register(RecordingMiddleware(outer, shop.seen, shop.faults), priority=p1)


@given(parsers.parse('order "{order_id}" was placed by customer "{customer_id}"'))
def placed(world: World, run: Run, order_id: str, customer_id: str) -> None:
    run(world.the_shop.mediator.send, PlaceOrderCommand(order_id=order_id, customer_id=customer_id))
    world.the_shop.journal.commits = 0


@when(parsers.parse('I send PlaceOrderCommand for order "{order_id}"'))
def send_place_order(world: World, run: Run, order_id: str) -> None:
    command = PlaceOrderCommand(order_id=order_id, customer_id="c-1")
    world.responses.append(run(world.the_shop.mediator.send, command))


@when(parsers.parse('I send PlaceOrderCommand for order "{order_id}" with correlation id "{cid}"'))
def send_with_correlation(world: World, run: Run, order_id: str, cid: str) -> None:
    command = PlaceOrderCommand(order_id=order_id, customer_id="c-1", correlation_id=cid)
    world.responses.append(run(world.the_shop.mediator.send, command))


@when(parsers.parse('I send PlaceOrderCommand for order "{order_id}" expecting it to fail'))
def send_failing(world: World, run: Run, order_id: str) -> None:
    with pytest.raises(Exception) as caught:  # the Then step names the error
        run(world.the_shop.mediator.send, PlaceOrderCommand(order_id=order_id, customer_id="c"))
    world.error = caught.value


@when(parsers.parse('I send PlaceOrderCommand for order "{order_id}" that reports a failure'))
def send_reporting_failure(world: World, run: Run, order_id: str) -> None:
    command = PlaceOrderCommand(order_id=order_id, customer_id="c-1", report_failure=True)
    world.responses.append(run(world.the_shop.mediator.send, command))


@when(parsers.parse('I ask GetOrderQuery for order "{order_id}"'))
def ask_order(world: World, run: Run, order_id: str) -> None:
    world.responses.append(run(world.the_shop.mediator.send, GetOrderQuery(order_id=order_id)))


@when("I send a command nobody handles")
def send_unhandled(world: World, run: Run) -> None:
    with pytest.raises(Exception) as caught:  # the Then step names the error
        run(world.the_shop.mediator.send, UnhandledCommand())
    world.error = caught.value


@when(
    parsers.parse(
        'a handler spawns a task that places order "{order_id}" after its parent committed'
    )
)
def spawn_task(world: World, run: Run, order_id: str) -> None:
    shop = world.the_shop
    tasks: list[asyncio.Task[Any]] = []
    committed = asyncio.Event()  # created on the scenario's loop, by the first run() below

    class SpawningHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            async def later() -> None:
                await committed.wait()  # the parent's send has returned: it has committed
                world.seen_in_task.append(get_current_uow())
                await shop.mediator.send(PlaceOrderCommand(order_id=order_id, customer_id="c"))

            tasks.append(asyncio.create_task(later()))
            return CommandResponse(result=None)

    shop.registry.register_command_handler(SpawnCommand, SpawningHandler())

    async def scenario() -> None:
        await shop.mediator.send(SpawnCommand())
        assert shop.journal.commits == 1
        committed.set()
        await asyncio.wait_for(tasks[0], timeout=5)

    run(scenario)


@then(parsers.parse('order "{order_id}" is committed'))
def order_committed(world: World, order_id: str) -> None:
    assert order_id in world.the_shop.committed("orders")


@then(parsers.parse('the reservation for order "{order_id}" is committed'))
def reservation_committed(world: World, order_id: str) -> None:
    assert order_id in world.the_shop.committed("reservations")


@then(parsers.parse("exactly {count:d} unit of work was opened and committed once"))
def one_uow(world: World, count: int) -> None:
    assert len(world.the_shop.journal.opened) == count
    assert world.the_shop.journal.commits == 1


@then("the nested command saw the same unit of work as its parent")
def same_uow(world: World) -> None:
    parent, nested = world.the_shop.seen.uows
    assert parent is nested


@then(parsers.parse('the caller got the error "{text}"'))
def caller_got(world: World, text: str) -> None:
    assert world.error is not None
    assert text in str(world.error)


@then("nothing is committed")
def nothing_committed(world: World) -> None:
    assert world.the_shop.committed("orders") == []
    assert world.the_shop.committed("reservations") == []
    assert world.the_shop.journal.commits == 0


@then("the response says it did not succeed")
def not_succeeded(world: World) -> None:
    assert world.responses[-1].success is False


@then("no OrderPlaced event was dispatched")
def no_order_placed(world: World) -> None:
    assert not [e for e in world.the_shop.seen.events if isinstance(e, OrderPlaced)]


@then("there is no current unit of work any more")
def no_current_uow(world: World) -> None:
    assert get_current_uow() is None


@then("the two commands have different correlation ids")
def different_correlation(world: World) -> None:
    first, second = world.responses
    assert first.correlation_id is not None
    assert first.correlation_id != second.correlation_id


@then(parsers.parse('the query response\'s result is "{value}"'))
def query_result(world: World, value: str) -> None:
    assert type(world.responses[-1]).__name__ == "QueryResponse"
    assert world.responses[-1].result == value


@then("nothing was committed by the query")
def query_committed_nothing(world: World) -> None:
    assert world.the_shop.journal.commits == 0


@then(parsers.parse('every command and event carries correlation id "{cid}"'))
def all_correlated(world: World, cid: str) -> None:
    seen = world.the_shop.seen
    assert {c.correlation_id for c in seen.commands} == {cid}
    assert {e.correlation_id for e in seen.events} == {cid}


def _command(world: World, kind: type) -> Any:
    return next(c for c in world.the_shop.seen.commands if isinstance(c, kind))


def _event(world: World, kind: type) -> Any:
    return next(e for e in world.the_shop.seen.events if isinstance(e, kind))


@then("the reservation was caused by the order command")
def reservation_caused(world: World) -> None:
    order = _command(world, PlaceOrderCommand)
    assert _command(world, ReserveStockCommand).causation_id == order.command_id


@then("the StockReserved event was caused by the reservation command")
def stock_reserved_caused(world: World) -> None:
    reserve = _command(world, ReserveStockCommand)
    assert _event(world, StockReserved).causation_id == reserve.command_id


@then("the OrderPlaced event was caused by the order command")
def order_placed_caused(world: World) -> None:
    order = _command(world, PlaceOrderCommand)
    assert _event(world, OrderPlaced).causation_id == order.command_id


@then("the middleware ran in this order:")
def middleware_order(world: World, datatable: list[list[str]]) -> None:
    expected = [row[0].strip() for row in datatable[1:]]
    assert world.the_shop.seen.middleware_calls == expected


@then("the task saw no current unit of work")
def task_saw_none(world: World) -> None:
    assert world.seen_in_task == [None]


@then(parsers.parse('order "{order_id}" is committed by a unit of work of its own'))
def committed_by_own(world: World, order_id: str) -> None:
    assert order_id in world.the_shop.committed("orders")
    assert len(world.the_shop.journal.opened) == 2
    assert world.the_shop.journal.commits == 2
