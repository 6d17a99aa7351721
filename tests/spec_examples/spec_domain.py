"""The names the examples of docs/reference/ use without defining them: the example domain.

Used only by tests/spec_examples (the spec's examples, run as written, with the spec's own
names). The core's other tests and scenarios use the warehouse of tests/warehouse/.

The spec shows ``Order``, ``OrderItem``, ``OrderDTO``, ``OrderCreated``,
``EmailService``, a unit of work with ``orders`` and handlers it never defines. The example
tests run the spec's code as written and take these fill-ins from here - so a failure in an
example test is the example's (or the kernel's), not a fill-in's.

The one thing to notice: `OrderUnitOfWork.orders` behaves like an ORM session - aggregates
it handed out are saved at commit - because the spec's nested-command example mutates a
loaded order (``order.ship()``) and never calls ``save``. Handlers that are undefined where
the spec uses them reach the orders through `orders_of`, which also works on a plain
``InMemoryUnitOfWork()`` (the spec's ``uow_factory=lambda: InMemoryUnitOfWork()``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler, EventHandler, QueryHandler
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.ids import new_id

# --- what happened: the journal the fill-ins write to ----------------------------------------


@dataclass
class Journal:
    """What the fill-in handlers and units of work did, for the tests to assert on."""

    uows: list[InMemoryUnitOfWork] = field(default_factory=list)
    """The unit of work each handler saw, in call order."""
    events: list[tuple[str, DomainEvent]] = field(default_factory=list)
    """(handler name, event) for every event an event handler received."""
    commits: int = 0
    emails: list[str] = field(default_factory=list)

    def clear(self) -> Journal:
        self.uows.clear()
        self.events.clear()
        self.commits = 0
        self.emails.clear()
        return self


journal = Journal()
"""The spec builds handlers with no arguments (``OrderCreatedHandler()``), so they report here."""


def fresh_journal() -> Journal:
    """The journal, emptied: call at the start of a test that reads it."""
    return journal.clear()


# --- domain ----------------------------------------------------------------------------------


class OrderItem(BaseModel):
    product_id: str
    quantity: int


class OrderCreated(DomainEvent):
    customer_id: str
    items: list[OrderItem] = Field(default_factory=list)


class OrderConfirmed(DomainEvent):
    pass


class OrderShipped(DomainEvent):
    pass


class InvoiceGenerated(DomainEvent):
    order_id: str


class Order(AggregateRoot):
    def __init__(self, id: str, customer_id: str, items: list[OrderItem]) -> None:
        super().__init__(id)
        self.customer_id = customer_id
        self.items = list(items)
        self.status = "PENDING"

    @classmethod
    def create(cls, customer_id: str, items: list[OrderItem]) -> Order:
        order = cls(f"order-{new_id()}", customer_id, items)
        order.add_event(OrderCreated(aggregate_id=order.id, customer_id=customer_id, items=items))
        return order

    def ship(self) -> None:
        self.status = "SHIPPED"
        self.add_event(OrderShipped(aggregate_id=self.id))


class Invoice(AggregateRoot):
    def __init__(self, id: str, order_id: str) -> None:
        super().__init__(id)
        self.order_id = order_id
        self.add_event(InvoiceGenerated(aggregate_id=id, order_id=order_id))


class OrderDTO(BaseModel):
    order_id: str
    customer_id: str
    status: str
    items: list[OrderItem]

    @classmethod
    def from_aggregate(cls, order: Order) -> OrderDTO:
        return cls(
            order_id=order.id, customer_id=order.customer_id, status=order.status, items=order.items
        )


class EmailService:
    """Records what it would send: the dependency the spec's registry factory injects."""

    def send_order_received(self, customer_id: str, order_id: str) -> None:
        journal.emails.append(f"{customer_id}: order {order_id} received")


# --- a unit of work exposing `orders` --------------------------------------------------------


class TrackingRepository(InMemoryRepository[Order]):
    """Remembers the aggregates it handed out and saves them at commit, like an ORM session.

    Enough for the examples: a rolled-back savepoint does not forget what it loaded.
    """

    def __init__(self, uow: InMemoryUnitOfWork, collection: str) -> None:
        super().__init__(uow, collection)
        self.tracked: dict[str, Order] = {}

    async def add(self, aggregate: Order) -> None:
        await super().add(aggregate)
        self.tracked[aggregate.id] = aggregate

    async def find(self, aggregate_id: str) -> Order | None:
        if aggregate_id in self.tracked:
            return self.tracked[aggregate_id]
        found = await super().find(aggregate_id)
        if found is not None:
            self.tracked[aggregate_id] = found
        return found

    async def flush(self) -> None:
        for aggregate in self.tracked.values():
            await self.save(aggregate)


class OrderUnitOfWork(InMemoryUnitOfWork):
    """The service's unit of work: ``uow.orders`` and ``uow.invoices`` over one store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__(store)
        self.orders = TrackingRepository(self, "orders")
        self.invoices: InMemoryRepository[Invoice] = InMemoryRepository(self, "invoices")

    async def _commit(self) -> None:
        await self.orders.flush()
        await super()._commit()
        journal.commits += 1


def orders_of(uow: InMemoryUnitOfWork) -> InMemoryRepository[Order]:
    """``uow.orders`` when the unit of work has it, else the ``orders`` collection of any."""
    repository = getattr(uow, "orders", None)
    return repository if repository is not None else InMemoryRepository(uow, "orders")


async def seed_order(store: InMemoryStore, order_id: str, customer_id: str = "cust-123") -> None:
    """Commit an existing order (the spec's ``"order-123"``) into ``store``."""
    uow = InMemoryUnitOfWork(store)
    async with uow:
        await InMemoryRepository[Order](uow, "orders").add(Order(order_id, customer_id, []))
        await uow.commit()


# --- messages and handlers the spec uses without defining them ------------------------------


class CreateOrderCommand(Command[str]):
    customer_id: str
    # The Commands section declares ``items: list[OrderItem]`` with no default, yet the
    # Mediator's Basic Setup sends ``CreateOrderCommand(customer_id="cust-123")``: a default
    # lets both examples run (test_command_examples.py runs the declaration as written).
    items: list[OrderItem] = Field(default_factory=list)


class GetOrderQuery(Query[OrderDTO]):
    order_id: str


class ShipOrderCommand(Command[None]):
    order_id: str


class GenerateInvoiceCommand(Command[str]):
    order_id: str


class CreateOrderHandler(CommandHandler[str]):
    """Creates the order; given an `EmailService` (the registry's factory), tells the customer."""

    def __init__(self, email_service: EmailService | None = None) -> None:
        self.email_service = email_service

    async def handle(self, command: CreateOrderCommand) -> CommandResponse[str]:
        uow = get_current_uow()
        journal.uows.append(uow)
        order = Order.create(command.customer_id, command.items)
        await orders_of(uow).add(order)
        if self.email_service is not None:
            self.email_service.send_order_received(command.customer_id, order.id)
        return CommandResponse(result=order.id, events=order.clear_events())


class GetOrderHandler(QueryHandler[OrderDTO]):
    async def handle(self, query: GetOrderQuery) -> QueryResponse[OrderDTO]:
        uow = get_current_uow()
        journal.uows.append(uow)
        order = await orders_of(uow).get(query.order_id)
        return QueryResponse(result=OrderDTO.from_aggregate(order))


class GenerateInvoiceHandler(CommandHandler[str]):
    async def handle(self, command: GenerateInvoiceCommand) -> CommandResponse[str]:
        uow: OrderUnitOfWork = get_current_uow()
        journal.uows.append(uow)
        invoice = Invoice(f"invoice-{command.order_id}", command.order_id)
        await uow.invoices.add(invoice)
        return CommandResponse(result=invoice.id, events=invoice.clear_events())


class _RecordingEventHandler(EventHandler[Any]):
    async def handle(self, event: Any) -> None:
        await asyncio.sleep(0)  # a real handler awaits I/O: the dispatcher must await it
        journal.events.append((type(self).__name__, event))


class OrderCreatedHandler(_RecordingEventHandler):
    pass


class OrderConfirmedHandler(_RecordingEventHandler):
    pass
