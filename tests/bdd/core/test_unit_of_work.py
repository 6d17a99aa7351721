"""Scenarios: features/core/unit_of_work.feature.

The warehouse wired as a real service is: `Mediator` with `SqlAlchemyUnitOfWork` (one
session per root command), `OutboxMiddleware` writing to a `BufferedOutbox` over
`SqlAlchemyOutboxStorage`, on a SQLite file whose schema the migrations built. Faults are
injected by a middleware that raises *after* the outbox row was written, before the commit.

The words of the feature: "the news that a shipment arrived" is the ``ShipmentReceived`` event,
"the news of a recount" ``ShipmentRecounted``; "not yet sent" the PENDING status; a follow-up
request a nested command; "refused as out of date" a `ConcurrencyError`.
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
from tests.warehouse.domain import Shipment, ShipmentReceived, ShipmentRecounted
from tests.warehouse.sql import WAREHOUSE_VERSIONS, WarehouseSqlUnitOfWork

scenarios("core/unit_of_work.feature")

# --- the service ---------------------------------------------------------------------------


class InjectedFault(Exception):
    """Raised on purpose after the outbox row was written, before the commit."""


class ReceiveShipment(Command[str]):
    shipment_id: str
    quantity: int = 100
    fail_after_outbox: bool = False
    sample_fails: bool | None = None
    """Also receive a sample shipment "<id>-sample" as a nested command (that fails if True)."""


class RecountShipment(Command[None]):
    shipment_id: str
    quantity: int
    based_on_version: int
    """The version the clerk saw: the change must not overwrite a newer one."""


@dataclass
class ReceiveShipmentHandler:
    mediator: Mediator | None = None

    async def handle(self, command: ReceiveShipment) -> CommandResponse[str]:
        uow: WarehouseSqlUnitOfWork = get_current_uow()
        shipment = Shipment.receive(command.shipment_id, "acme", command.quantity)
        await uow.shipments.add(shipment)
        if command.sample_fails is not None and self.mediator is not None:
            sample = ReceiveShipment(
                shipment_id=f"{command.shipment_id}-sample",
                quantity=0,
                fail_after_outbox=command.sample_fails,
            )
            try:
                await self.mediator.send(sample)
            except InjectedFault:
                pass  # a sample is a nice-to-have: the shipment goes through without it
        return CommandResponse(result=shipment.id, events=shipment.clear_events())


class RecountShipmentHandler:
    async def handle(self, command: RecountShipment) -> CommandResponse[None]:
        uow: WarehouseSqlUnitOfWork = get_current_uow()
        shipment = await uow.shipments.get(command.shipment_id)
        # The clerk counted the version they saw; saving checks that it is still current.
        shipment.version = command.based_on_version
        await asyncio.sleep(0.02)  # the other clerk's command runs meanwhile
        shipment.recount(command.quantity)
        await uow.shipments.save(shipment)
        return CommandResponse(result=None, events=shipment.clear_events())


class FaultAfterOutbox:
    """Raises for commands that ask for it, after the (inner) outbox middleware ran."""

    async def __call__(self, message: Any, next: Next) -> Any:
        response = await next(message)
        if getattr(message, "fail_after_outbox", False):
            raise InjectedFault(f"{type(message).__name__} failed after writing its outbox row")
        return response


@dataclass
class WarehouseService:
    engine: AsyncEngine
    session_factory: async_sessionmaker[Any]
    mediator: Mediator
    outbox: BufferedOutbox
    storage: SqlAlchemyOutboxStorage
    broker: RecordingPublisher
    outcomes: dict[int, str] = field(default_factory=dict)

    async def stored_shipment(self, shipment_id: str) -> Shipment | None:
        async with WarehouseSqlUnitOfWork(self.session_factory) as uow:
            return await uow.shipments.find(shipment_id)

    async def outbox_rows(self) -> list[dict[str, Any]]:
        """Every row of the outbox table, oldest first: (topic, payload, status)."""
        t = outbox_table
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(t.c.topic, t.c.payload, t.c.status).order_by(t.c.created_at)
            )
            return [dict(row) for row in result.mappings()]


async def build_service(directory: Path) -> WarehouseService:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'warehouse.db'}")
    await upgrade(engine, WAREHOUSE_VERSIONS)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    storage = SqlAlchemyOutboxStorage(engine)
    broker = RecordingPublisher(name="broker")
    outbox = BufferedOutbox(storage=storage, broker=broker)
    middleware = MiddlewareRegistry()
    middleware.register(FaultAfterOutbox(), priority=10)  # outer: runs after the outbox
    middleware.register(OutboxMiddleware(outbox), priority=20)
    registry = HandlerRegistry()
    receive_shipment = ReceiveShipmentHandler()
    registry.register_command_handler(ReceiveShipment, receive_shipment)
    registry.register_command_handler(RecountShipment, RecountShipmentHandler())
    mediator = Mediator(
        registry=registry,
        uow_factory=lambda: WarehouseSqlUnitOfWork(session_factory),
        middleware_registry=middleware,
    )
    receive_shipment.mediator = mediator
    return WarehouseService(engine, session_factory, mediator, outbox, storage, broker)


@pytest.fixture
def warehouse(run: Run, tmp_path: Path) -> Iterator[WarehouseService]:
    service: WarehouseService = run(build_service, tmp_path)
    yield service
    run(service.engine.dispose)


# --- steps ---------------------------------------------------------------------------------


@given("a warehouse keeping its books and its outbox in a SQLite database")
def given_service(warehouse: WarehouseService) -> None:
    assert warehouse.engine.dialect.name == "sqlite"


@given(parsers.parse('shipment "{shipment_id}" was received with {quantity:d} units'))
def shipment_was_received(
    run: Run, warehouse: WarehouseService, shipment_id: str, quantity: int
) -> None:
    run(warehouse.mediator.send, ReceiveShipment(shipment_id=shipment_id, quantity=quantity))


@when(parsers.parse('the warehouse receives shipment "{shipment_id}" of {quantity:d} units'))
def receive_shipment(
    run: Run, warehouse: WarehouseService, shipment_id: str, quantity: int
) -> None:
    run(warehouse.mediator.send, ReceiveShipment(shipment_id=shipment_id, quantity=quantity))


@when(
    parsers.parse(
        'receiving shipment "{shipment_id}" fails after its news was written to the outbox'
    )
)
def receive_shipment_fails(run: Run, warehouse: WarehouseService, shipment_id: str) -> None:
    with pytest.raises(InjectedFault):
        run(
            warehouse.mediator.send,
            ReceiveShipment(shipment_id=shipment_id, fail_after_outbox=True),
        )


@when(
    parsers.parse(
        'the warehouse receives shipment "{shipment_id}" with a sample whose receiving fails '
        "after its news was written to the outbox"
    )
)
def receive_shipment_with_failing_sample(
    run: Run, warehouse: WarehouseService, shipment_id: str
) -> None:
    run(warehouse.mediator.send, ReceiveShipment(shipment_id=shipment_id, sample_fails=True))


@when(
    parsers.parse(
        'two clerks recount shipment "{shipment_id}" at the same time, both from '
        "version {version:d}"
    )
)
def two_concurrent_changes(
    run: Run, warehouse: WarehouseService, shipment_id: str, version: int
) -> None:
    async def change(quantity: int) -> None:
        try:
            await warehouse.mediator.send(
                RecountShipment(
                    shipment_id=shipment_id, quantity=quantity, based_on_version=version
                )
            )
            warehouse.outcomes[quantity] = "stored"
        except ConcurrencyError:
            warehouse.outcomes[quantity] = "refused"

    async def both() -> None:
        await asyncio.wait_for(asyncio.gather(change(200), change(300)), timeout=30)

    run(both)


@then(
    parsers.parse(
        'shipment "{shipment_id}" is in the database with {quantity:d} units at version {version:d}'
    )
)
def shipment_is_stored(
    run: Run, warehouse: WarehouseService, shipment_id: str, quantity: int, version: int
) -> None:
    shipment = run(warehouse.stored_shipment, shipment_id)
    assert shipment is not None, f"shipment {shipment_id} is not stored"
    assert (shipment.quantity, shipment.version) == (quantity, version)


@then(parsers.parse('shipment "{shipment_id}" is not in the database'))
def shipment_is_not_stored(run: Run, warehouse: WarehouseService, shipment_id: str) -> None:
    assert run(warehouse.stored_shipment, shipment_id) is None


@then(
    parsers.parse('the outbox holds the news that shipment "{shipment_id}" arrived, not yet sent')
)
def outbox_holds_pending(run: Run, warehouse: WarehouseService, shipment_id: str) -> None:
    event_type = ShipmentReceived.__name__
    rows = run(warehouse.outbox_rows)
    assert [(row["topic"], row["payload"]["shipment_id"], row["status"]) for row in rows] == [
        (event_type, shipment_id, OutboxStatus.PENDING.value)
    ]


@then(
    parsers.parse(
        'the outbox holds the news that shipment "{shipment_id}" arrived, and nothing else'
    )
)
def outbox_holds_only(run: Run, warehouse: WarehouseService, shipment_id: str) -> None:
    event_type = ShipmentReceived.__name__
    rows = run(warehouse.outbox_rows)
    assert [(row["topic"], row["payload"]["shipment_id"]) for row in rows] == [
        (event_type, shipment_id)
    ]


@then("the outbox is empty")
def outbox_is_empty(run: Run, warehouse: WarehouseService) -> None:
    assert sum(run(warehouse.storage.count_by_status).values()) == 0


@then("once it is written, the relay sends that news to the broker")
def relay_publishes(run: Run, warehouse: WarehouseService) -> None:
    assert run(warehouse.outbox.service.process_batch) == 1
    assert [p.topic for p in warehouse.broker.published] == [ShipmentReceived.__name__]
    assert run(warehouse.storage.count_by_status)[OutboxStatus.PUBLISHED] == 1


@then("one recount is kept and the other is refused as out of date")
def one_stored_one_refused(warehouse: WarehouseService) -> None:
    assert sorted(warehouse.outcomes.values()) == ["refused", "stored"]


@then(
    parsers.parse(
        'shipment "{shipment_id}" is in the database with the winner\'s count at version '
        "{version:d}"
    )
)
def winner_is_stored(run: Run, warehouse: WarehouseService, shipment_id: str, version: int) -> None:
    (winner,) = [
        quantity for quantity, outcome in warehouse.outcomes.items() if outcome == "stored"
    ]
    shipment_is_stored(run, warehouse, shipment_id, winner, version)


@then("the outbox holds the news of the winner's recount only")
def outbox_holds_winner(run: Run, warehouse: WarehouseService) -> None:
    event_type = ShipmentRecounted.__name__
    (winner,) = [
        quantity for quantity, outcome in warehouse.outcomes.items() if outcome == "stored"
    ]
    rows = [row for row in run(warehouse.outbox_rows) if row["topic"] == event_type]
    assert [row["payload"]["quantity"] for row in rows] == [winner]
