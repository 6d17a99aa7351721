"""Steps shared by the mediator and nested-command features: the warehouse receiving shipments.

The world is `tests/warehouse/receiving.py`'s in-memory warehouse, with a `LoggingMiddleware`
so every message of a scenario shows in the log. Only the steps both features use live here;
each feature's own steps are in its test module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from tests.conftest import Run
from tests.warehouse.receiving import ReceiveShipmentCommand, Warehouse, build_warehouse


@dataclass
class World:
    warehouse: Warehouse | None = None
    responses: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    seen_in_task: list[Any] = field(default_factory=list)

    @property
    def the_warehouse(self) -> Warehouse:
        assert self.warehouse is not None, (
            "no warehouse yet: start with 'Given a warehouse whose front desk ...'"
        )
        return self.warehouse


@pytest.fixture
def world() -> World:
    return World()


@given("a warehouse whose front desk keeps a log of every request")
def a_warehouse(world: World) -> None:
    world.warehouse = build_warehouse()
    logger = logging.getLogger("warehouse")
    world.the_warehouse.middleware.register(LoggingMiddleware(logger), priority=0)


@when(parsers.parse('the warehouse receives shipment "{shipment_id}"'))
def receive(world: World, run: Run, shipment_id: str) -> None:
    command = ReceiveShipmentCommand(shipment_id=shipment_id, supplier="acme")
    world.responses.append(run(world.the_warehouse.mediator.send, command))


@when(parsers.parse('the warehouse receives shipment "{shipment_id}", expecting it to fail'))
def receive_failing(world: World, run: Run, shipment_id: str) -> None:
    command = ReceiveShipmentCommand(shipment_id=shipment_id, supplier="acme")
    with pytest.raises(Exception) as caught:  # the Then step names the error
        run(world.the_warehouse.mediator.send, command)
    world.error = caught.value


@then(parsers.parse('shipment "{shipment_id}" is in the books'))
def shipment_committed(world: World, shipment_id: str) -> None:
    assert shipment_id in world.the_warehouse.committed("shipments")


@then(parsers.parse("the request was {count:d} piece of work, written to the books once"))
def one_uow(world: World, count: int) -> None:
    assert len(world.the_warehouse.journal.opened) == count
    assert world.the_warehouse.journal.commits == 1


FAILING_STAGES = {
    "the clerk receiving the shipment": "handler",
    "putting the goods away": "nested",
    "the stock list": "event_handler",
}
"""Who failed, in the scenarios' words -> the `Faults` stage that raised."""


@then(parsers.parse("the caller hears that {who} failed"))
def caller_hears_who_failed(world: World, who: str) -> None:
    assert world.error is not None
    assert f"injected fault in the {FAILING_STAGES[who]}" in str(world.error)


@then("nothing is in the books")
def nothing_committed(world: World) -> None:
    assert world.the_warehouse.committed("shipments") == []
    assert world.the_warehouse.committed("putaways") == []
    assert world.the_warehouse.journal.commits == 0
