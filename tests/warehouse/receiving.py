"""Receiving shipments in memory: the warehouse the mediator's tests and scenarios drive.

``ReceiveShipmentCommand`` records a `Shipment` and sends ``PutAwayCommand`` nested, so one
root command writes two aggregates through one unit of work. ``Faults`` makes any stage fail
on purpose (the handler, the nested command, a middleware, an in-process event handler), and
``Journal`` records what each unit of work did, so tests can assert "exactly one commit".

The thing to notice: the handlers find the unit of work with ``get_current_uow()`` - the
nested handler gets its parent's, which is why both aggregates commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.handler import CommandHandler, QueryHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from tests.warehouse.domain import GoodsPutAway, Putaway, Shipment, ShipmentReceived


class InjectedFault(Exception):
    """Raised on purpose by a stage named in `Faults`."""


# --- unit of work with a journal ------------------------------------------------------------


@dataclass
class Journal:
    """What the units of work of one test did, in order."""

    opened: list[WarehouseUnitOfWork] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0


class WarehouseUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore, journal: Journal) -> None:
        super().__init__(store)
        self._journal = journal
        journal.opened.append(self)
        self.shipments: InMemoryRepository[Shipment] = InMemoryRepository(self, "shipments")
        self.putaways: InMemoryRepository[Putaway] = InMemoryRepository(self, "putaways")

    async def _commit(self) -> None:
        await super()._commit()
        self._journal.commits += 1

    async def _rollback(self) -> None:
        await super()._rollback()
        self._journal.rollbacks += 1


# --- messages and handlers ------------------------------------------------------------------


class ReceiveShipmentCommand(Command[str]):
    shipment_id: str
    supplier: str
    shelf_id: str = "shelf-1"
    quantity: int = 1
    report_failure: bool = False
    """Return ``success=False`` instead of raising (a handled business failure)."""


class PutAwayCommand(Command[str]):
    shipment_id: str
    shelf_id: str
    quantity: int


class FindShipmentQuery(Query[str | None]):
    """The supplier of a shipment, or ``None``."""

    shipment_id: str


@dataclass
class Faults:
    """Stages that raise `InjectedFault`: handler, nested, middleware, event_handler."""

    stages: set[str] = field(default_factory=set)

    def check(self, stage: str) -> None:
        if stage in self.stages:
            raise InjectedFault(f"injected fault in the {stage}")


@dataclass
class Observations:
    """What handlers saw while running, for assertions after the fact."""

    uows: list[Any] = field(default_factory=list)
    commands: list[Command[Any]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    middleware_calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(middleware, "enters" or "leaves", message class name)."""


class ReceiveShipmentHandler(CommandHandler[str]):
    def __init__(self, mediator: Mediator, faults: Faults, seen: Observations) -> None:
        self._mediator = mediator
        self._faults = faults
        self._seen = seen

    async def handle(self, command: ReceiveShipmentCommand) -> CommandResponse[str]:
        uow: WarehouseUnitOfWork = get_current_uow()
        self._seen.uows.append(uow)
        self._seen.commands.append(command)
        shipment = Shipment.receive(command.shipment_id, command.supplier, command.quantity)
        await uow.shipments.add(shipment)
        await self._mediator.send(
            PutAwayCommand(
                shipment_id=command.shipment_id,
                shelf_id=command.shelf_id,
                quantity=command.quantity,
            )
        )
        self._faults.check("handler")
        return CommandResponse(
            result=shipment.id,
            events=shipment.clear_events(),
            success=not command.report_failure,
        )


class PutAwayHandler(CommandHandler[str]):
    def __init__(self, faults: Faults, seen: Observations) -> None:
        self._faults = faults
        self._seen = seen

    async def handle(self, command: PutAwayCommand) -> CommandResponse[str]:
        uow: WarehouseUnitOfWork = get_current_uow()
        self._seen.uows.append(uow)
        self._seen.commands.append(command)
        putaway = Putaway(command.shipment_id, command.shelf_id, command.quantity)
        await uow.putaways.add(putaway)
        self._faults.check("nested")
        return CommandResponse(result=putaway.id, events=putaway.clear_events())


class FindShipmentHandler(QueryHandler[str | None]):
    async def handle(self, query: FindShipmentQuery) -> QueryResponse[str | None]:
        uow: WarehouseUnitOfWork = get_current_uow()
        shipment = await uow.shipments.find(query.shipment_id)
        return QueryResponse(result=shipment.supplier if shipment else None)


class RecordingMiddleware:
    def __init__(self, name: str, seen: Observations, faults: Faults) -> None:
        self._name = name
        self._seen = seen
        self._faults = faults

    async def __call__(self, message: Any, next: Any) -> Any:
        self._seen.middleware_calls.append((self._name, "enters", type(message).__name__))
        if isinstance(message, PutAwayCommand):
            self._faults.check("middleware")
        response = await next(message)
        self._seen.middleware_calls.append((self._name, "leaves", type(message).__name__))
        return response


# --- the assembled warehouse ----------------------------------------------------------------


@dataclass
class Warehouse:
    mediator: Mediator
    registry: HandlerRegistry
    middleware: MiddlewareRegistry
    store: InMemoryStore
    journal: Journal
    faults: Faults
    seen: Observations
    dispatcher: EventDispatcher[DomainEvent]

    def committed(self, collection: str) -> list[str]:
        return sorted(self.store.keys(collection))


def build_warehouse(*, middleware_priorities: dict[str, int] | None = None) -> Warehouse:
    store = InMemoryStore()
    journal = Journal()
    faults = Faults()
    seen = Observations()
    registry = HandlerRegistry()
    dispatcher: EventDispatcher[DomainEvent] = EventDispatcher(handler_registry=registry)
    middleware = MiddlewareRegistry()
    for name, priority in (middleware_priorities or {}).items():
        middleware.register(RecordingMiddleware(name, seen, faults), priority=priority)
    mediator = Mediator(
        registry=registry,
        uow_factory=lambda: WarehouseUnitOfWork(store, journal),
        middleware_registry=middleware,
        event_dispatcher=dispatcher,
    )
    registry.register_command_handler(
        ReceiveShipmentCommand, lambda: ReceiveShipmentHandler(mediator, faults, seen)
    )
    registry.register_command_handler(PutAwayCommand, PutAwayHandler(faults, seen))
    registry.register_query_handler(FindShipmentQuery, FindShipmentHandler)

    async def record_event(event: DomainEvent) -> None:
        seen.events.append(event)
        faults.check("event_handler")

    registry.register_event_handler(ShipmentReceived, record_event)
    registry.register_event_handler(GoodsPutAway, record_event)
    return Warehouse(mediator, registry, middleware, store, journal, faults, seen, dispatcher)
