"""A tiny shop used by the kernel's tests and scenarios: orders, and stock reserved for them.

``PlaceOrderCommand`` creates an order and sends ``ReserveStockCommand`` nested, so one root
command writes two aggregates through one unit of work. ``Faults`` makes any stage fail on
purpose (the handler, the nested command, a middleware, an in-process event handler), and
``Journal`` records what each unit of work did, so tests can assert "exactly one commit".
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
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry


class InjectedFault(Exception):
    """Raised on purpose by a stage named in `Faults`."""


# --- domain ---------------------------------------------------------------------------------


class OrderPlaced(DomainEvent):
    customer_id: str


class StockReserved(DomainEvent):
    sku: str
    quantity: int


class Order(AggregateRoot):
    def __init__(self, id: str, customer_id: str) -> None:
        super().__init__(id)
        self.customer_id = customer_id

    @classmethod
    def place(cls, order_id: str, customer_id: str) -> Order:
        order = cls(order_id, customer_id)
        order.add_event(OrderPlaced(aggregate_id=order_id, customer_id=customer_id))
        return order


class Reservation(AggregateRoot):
    def __init__(self, id: str, sku: str, quantity: int) -> None:
        super().__init__(id)
        self.sku = sku
        self.quantity = quantity
        self.add_event(StockReserved(aggregate_id=id, sku=sku, quantity=quantity))


# --- unit of work with a journal ------------------------------------------------------------


@dataclass
class Journal:
    """What the units of work of one test did, in order."""

    opened: list[ShopUnitOfWork] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0


class ShopUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore, journal: Journal) -> None:
        super().__init__(store)
        self._journal = journal
        journal.opened.append(self)
        self.orders: InMemoryRepository[Order] = InMemoryRepository(self, "orders")
        self.reservations: InMemoryRepository[Reservation] = InMemoryRepository(
            self, "reservations"
        )

    async def _commit(self) -> None:
        await super()._commit()
        self._journal.commits += 1

    async def _rollback(self) -> None:
        await super()._rollback()
        self._journal.rollbacks += 1


# --- messages and handlers ------------------------------------------------------------------


class PlaceOrderCommand(Command[str]):
    order_id: str
    customer_id: str
    sku: str = "sku-1"
    quantity: int = 1
    report_failure: bool = False
    """Return ``success=False`` instead of raising (a handled business failure)."""


class ReserveStockCommand(Command[str]):
    order_id: str
    sku: str
    quantity: int


class GetOrderQuery(Query[str | None]):
    order_id: str


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
    middleware_calls: list[str] = field(default_factory=list)


class PlaceOrderHandler(CommandHandler[str]):
    def __init__(self, mediator: Mediator, faults: Faults, seen: Observations) -> None:
        self._mediator = mediator
        self._faults = faults
        self._seen = seen

    async def handle(self, command: PlaceOrderCommand) -> CommandResponse[str]:
        uow: ShopUnitOfWork = get_current_uow()
        self._seen.uows.append(uow)
        self._seen.commands.append(command)
        order = Order.place(command.order_id, command.customer_id)
        await uow.orders.add(order)
        await self._mediator.send(
            ReserveStockCommand(
                order_id=command.order_id, sku=command.sku, quantity=command.quantity
            )
        )
        self._faults.check("handler")
        return CommandResponse(
            result=order.id, events=order.clear_events(), success=not command.report_failure
        )


class ReserveStockHandler(CommandHandler[str]):
    def __init__(self, faults: Faults, seen: Observations) -> None:
        self._faults = faults
        self._seen = seen

    async def handle(self, command: ReserveStockCommand) -> CommandResponse[str]:
        uow: ShopUnitOfWork = get_current_uow()
        self._seen.uows.append(uow)
        self._seen.commands.append(command)
        reservation = Reservation(command.order_id, command.sku, command.quantity)
        await uow.reservations.add(reservation)
        self._faults.check("nested")
        return CommandResponse(result=reservation.id, events=reservation.clear_events())


class GetOrderHandler(QueryHandler[str | None]):
    async def handle(self, query: GetOrderQuery) -> QueryResponse[str | None]:
        uow: ShopUnitOfWork = get_current_uow()
        order = await uow.orders.find(query.order_id)
        return QueryResponse(result=order.customer_id if order else None)


class RecordingMiddleware:
    def __init__(self, name: str, seen: Observations, faults: Faults) -> None:
        self._name = name
        self._seen = seen
        self._faults = faults

    async def __call__(self, message: Any, next: Any) -> Any:
        self._seen.middleware_calls.append(f"{self._name}>{type(message).__name__}")
        if isinstance(message, ReserveStockCommand):
            self._faults.check("middleware")
        response = await next(message)
        self._seen.middleware_calls.append(f"{self._name}<{type(message).__name__}")
        return response


# --- the assembled shop ---------------------------------------------------------------------


@dataclass
class Shop:
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


def build_shop(*, middleware_priorities: dict[str, int] | None = None) -> Shop:
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
        uow_factory=lambda: ShopUnitOfWork(store, journal),
        middleware_registry=middleware,
        event_dispatcher=dispatcher,
    )
    registry.register_command_handler(
        PlaceOrderCommand, lambda: PlaceOrderHandler(mediator, faults, seen)
    )
    registry.register_command_handler(ReserveStockCommand, ReserveStockHandler(faults, seen))
    registry.register_query_handler(GetOrderQuery, GetOrderHandler)

    async def record_event(event: DomainEvent) -> None:
        seen.events.append(event)
        faults.check("event_handler")

    registry.register_event_handler(OrderPlaced, record_event)
    registry.register_event_handler(StockReserved, record_event)
    return Shop(mediator, registry, middleware, store, journal, faults, seen, dispatcher)
