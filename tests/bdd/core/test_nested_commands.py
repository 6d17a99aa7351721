"""Scenarios: features/core/nested_commands.feature - nested commands join the root's unit of work.

Shared steps (the warehouse, receiving a shipment, what is committed): receiving_steps.py.
The words of the feature: a checkpoint is a middleware, news an event, a tracking number a
correlation id, "asked for by" / "came from" the causation id, an errand an `asyncio` task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.response import CommandResponse
from tests.bdd.core.receiving_steps import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.receiving_steps import World
from tests.conftest import Run
from tests.warehouse.domain import GoodsPutAway, ShipmentReceived
from tests.warehouse.receiving import PutAwayCommand, ReceiveShipmentCommand, RecordingMiddleware

scenarios("core/nested_commands.feature")

COMMANDS = {
    "receiving the shipment": ReceiveShipmentCommand.__name__,
    "putting the goods away": PutAwayCommand.__name__,
}
"""The table's words for each command class."""

CHECKPOINT_PRIORITIES = (10, 20)
"""The first checkpoint named runs outermost: the lower priority."""


class SpawnCommand(Command[None]):
    pass


@given("putting goods away fails")
def putaway_fails(world: World) -> None:
    world.the_warehouse.faults.stages.add("nested")


@given("the stock list, which hears of every arrival and putaway, fails when it hears one")
def event_handler_fails(world: World) -> None:
    world.the_warehouse.faults.stages.add("event_handler")


@given(
    parsers.parse('every request passes checkpoint "{outer}" first and checkpoint "{inner}" second')
)
def two_middlewares(world: World, outer: str, inner: str) -> None:
    warehouse = world.the_warehouse
    p1, p2 = CHECKPOINT_PRIORITIES
    # registered inner first: the priority, not the order of registration, decides
    warehouse.middleware.register(
        RecordingMiddleware(inner, warehouse.seen, warehouse.faults), priority=p2
    )
    warehouse.middleware.register(
        RecordingMiddleware(outer, warehouse.seen, warehouse.faults), priority=p1
    )


@when(
    parsers.parse('the warehouse receives shipment "{shipment_id}" under tracking number "{cid}"')
)
def receive_with_correlation(world: World, run: Run, shipment_id: str, cid: str) -> None:
    command = ReceiveShipmentCommand(shipment_id=shipment_id, supplier="acme", correlation_id=cid)
    world.responses.append(run(world.the_warehouse.mediator.send, command))


@when(
    parsers.parse(
        'a clerk starts an errand that receives shipment "{shipment_id}" once the clerk\'s work '
        "is in the books"
    )
)
def spawn_task(world: World, run: Run, shipment_id: str) -> None:
    warehouse = world.the_warehouse
    tasks: list[asyncio.Task[Any]] = []
    committed = asyncio.Event()  # created on the scenario's loop, by the first run() below

    class SpawningHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            async def later() -> None:
                await committed.wait()  # the parent's send has returned: it has committed
                world.seen_in_task.append(get_current_uow())
                late = ReceiveShipmentCommand(shipment_id=shipment_id, supplier="acme")
                await warehouse.mediator.send(late)

            tasks.append(asyncio.create_task(later()))
            return CommandResponse(result=None)

    warehouse.registry.register_command_handler(SpawnCommand, SpawningHandler())

    async def scenario() -> None:
        await warehouse.mediator.send(SpawnCommand())
        assert warehouse.journal.commits == 1
        committed.set()
        await asyncio.wait_for(tasks[0], timeout=5)

    run(scenario)


@then(parsers.parse('the putaway of shipment "{shipment_id}" is in the books'))
def putaway_committed(world: World, shipment_id: str) -> None:
    assert shipment_id in world.the_warehouse.committed("putaways")


@then("putting the goods away was part of the same piece of work as receiving them")
def same_uow(world: World) -> None:
    parent, nested = world.the_warehouse.seen.uows
    assert parent is nested


@then(parsers.parse('every request and every piece of news carries tracking number "{cid}"'))
def all_correlated(world: World, cid: str) -> None:
    seen = world.the_warehouse.seen
    assert {c.correlation_id for c in seen.commands} == {cid}
    assert {e.correlation_id for e in seen.events} == {cid}


def _command(world: World, kind: type) -> Any:
    return next(c for c in world.the_warehouse.seen.commands if isinstance(c, kind))


def _event(world: World, kind: type) -> Any:
    return next(e for e in world.the_warehouse.seen.events if isinstance(e, kind))


@then("putting the goods away was asked for by receiving the shipment")
def putaway_caused(world: World) -> None:
    receive = _command(world, ReceiveShipmentCommand)
    assert _command(world, PutAwayCommand).causation_id == receive.command_id


@then('the news "goods put away" came from putting the goods away')
def goods_put_away_caused(world: World) -> None:
    put_away = _command(world, PutAwayCommand)
    assert _event(world, GoodsPutAway).causation_id == put_away.command_id


@then('the news "shipment received" came from receiving the shipment')
def shipment_received_caused(world: World) -> None:
    receive = _command(world, ReceiveShipmentCommand)
    assert _event(world, ShipmentReceived).causation_id == receive.command_id


@then("the requests passed the checkpoints in this sequence:")
def middleware_order(world: World, datatable: list[list[str]]) -> None:
    expected = [
        (middleware.strip(), step.strip(), COMMANDS[command.strip()])
        for middleware, step, command in datatable[1:]
    ]
    assert world.the_warehouse.seen.middleware_calls == expected


@then("the errand found no piece of work open")
def task_saw_none(world: World) -> None:
    assert world.seen_in_task == [None]


@then(
    parsers.parse('shipment "{shipment_id}" is written to the books by a piece of work of its own')
)
def committed_by_own(world: World, shipment_id: str) -> None:
    assert shipment_id in world.the_warehouse.committed("shipments")
    assert len(world.the_warehouse.journal.opened) == 2
    assert world.the_warehouse.journal.commits == 2
