"""Scenarios: features/core/mediator.feature - one root command, one unit of work, one commit.

The words of the feature: the front desk is the `Mediator`, a request a command or a query,
a piece of work a unit of work, "in the books" committed, a tracking number a correlation id.

Shared steps (the warehouse, receiving a shipment, what is committed): receiving_steps.py.
"""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from tests.bdd.core.receiving_steps import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.receiving_steps import World
from tests.conftest import Run
from tests.warehouse.domain import ShipmentReceived
from tests.warehouse.receiving import FindShipmentQuery, ReceiveShipmentCommand

scenarios("core/mediator.feature")


class PaintShelvesCommand(Command[None]):
    """A command no handler is registered for."""


@given("the clerk receiving shipments fails after noting the shipment down")
def handler_fails(world: World) -> None:
    world.the_warehouse.faults.stages.add("handler")


@given(parsers.parse('shipment "{shipment_id}" was received from supplier "{supplier}"'))
def received(world: World, run: Run, shipment_id: str, supplier: str) -> None:
    command = ReceiveShipmentCommand(shipment_id=shipment_id, supplier=supplier)
    run(world.the_warehouse.mediator.send, command)
    world.the_warehouse.journal.commits = 0


@when(parsers.parse('the warehouse receives shipment "{shipment_id}" but the clerk turns it down'))
def receive_reporting_failure(world: World, run: Run, shipment_id: str) -> None:
    command = ReceiveShipmentCommand(shipment_id=shipment_id, supplier="acme", report_failure=True)
    world.responses.append(run(world.the_warehouse.mediator.send, command))


@when(parsers.parse('someone asks who supplied shipment "{shipment_id}"'))
def ask_supplier(world: World, run: Run, shipment_id: str) -> None:
    query = FindShipmentQuery(shipment_id=shipment_id)
    world.responses.append(run(world.the_warehouse.mediator.send, query))


@when("someone sends a request to paint the shelves, which nobody handles")
def send_unhandled(world: World, run: Run) -> None:
    with pytest.raises(Exception) as caught:  # the Then step names the error
        run(world.the_warehouse.mediator.send, PaintShelvesCommand())
    world.error = caught.value


@then("the caller hears that the request did not succeed")
def not_succeeded(world: World) -> None:
    assert world.responses[-1].success is False


@then(parsers.parse('nobody heard that shipment "{shipment_id}" arrived'))
def no_shipment_received(world: World, shipment_id: str) -> None:
    assert not [e for e in world.the_warehouse.seen.events if isinstance(e, ShipmentReceived)]
    assert shipment_id not in world.the_warehouse.committed("shipments")


@then("no piece of work is left open")
def no_current_uow(world: World) -> None:
    assert get_current_uow() is None


@then("the two requests have different tracking numbers")
def different_correlation(world: World) -> None:
    first, second = world.responses
    assert first.correlation_id is not None
    assert first.correlation_id != second.correlation_id


@then(parsers.parse('the answer is "{value}"'))
def query_result(world: World, value: str) -> None:
    assert type(world.responses[-1]).__name__ == "QueryResponse"
    assert world.responses[-1].result == value


@then("answering wrote nothing to the books")
def query_committed_nothing(world: World) -> None:
    assert world.the_warehouse.journal.commits == 0


@then("the caller hears that no one handles a request to paint the shelves")
def no_handler_named(world: World) -> None:
    assert world.error is not None
    assert "No handler is registered for PaintShelvesCommand" in str(world.error)
