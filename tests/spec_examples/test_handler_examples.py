"""docs/reference/handlers.md: the Command Handler and the Query Handler examples, as written.

The two handler classes are the spec's, verbatim. What they use without defining - the
commands, ``Order``, ``OrderDTO``, the response types and a unit of work exposing
``orders`` - comes from `domain` and the spec's own import paths.
"""

from __future__ import annotations

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.handler import CommandHandler, QueryHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.ports.unit_of_work import UnitOfWorkState
from cqrs_ddd_core.primitives.exceptions import NotFoundError
from tests.spec_examples.spec_domain import (
    CreateOrderCommand,
    GetOrderQuery,
    Order,
    OrderCreated,
    OrderDTO,
    OrderItem,
    OrderUnitOfWork,
)

# --- spec: Handlers / Command Handler (its imports are at the top of this file) ---


class CreateOrderHandler(CommandHandler[str]):
    async def handle(self, command: CreateOrderCommand) -> CommandResponse[str]:
        # Get UoW from context
        uow = get_current_uow()

        # Execute business logic
        order = Order.create(command.customer_id, command.items)
        await uow.orders.add(order)

        # Return with events
        return CommandResponse(
            result=order.id,
            events=order.clear_events(),
        )


# --- spec: Handlers / Query Handler (QueryHandler imported as in the Implementation block) ---


class GetOrderHandler(QueryHandler[OrderDTO]):
    async def handle(self, query: GetOrderQuery) -> QueryResponse[OrderDTO]:
        uow = get_current_uow()
        order = await uow.orders.get(query.order_id)

        # Convert to DTO (no events)
        dto = OrderDTO.from_aggregate(order)
        return QueryResponse(result=dto)


# --- end of the examples ---


def build(store: InMemoryStore, opened: list[OrderUnitOfWork]) -> Mediator:
    def uow_factory() -> OrderUnitOfWork:
        opened.append(OrderUnitOfWork(store))
        return opened[-1]

    registry = HandlerRegistry()
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())
    return Mediator(registry=registry, uow_factory=uow_factory)


async def test_the_command_handler_stores_the_order_and_returns_its_events() -> None:
    store, opened = InMemoryStore(), []
    mediator = build(store, opened)
    items = [OrderItem(product_id="prod-456", quantity=2)]

    response = await mediator.send(CreateOrderCommand(customer_id="cust-123", items=items))

    [uow] = opened
    assert uow.state is UnitOfWorkState.COMMITTED
    stored = store.committed("orders", response.result)
    assert stored is not None
    assert (stored.value.customer_id, stored.value.items) == ("cust-123", items)
    [event] = response.events
    assert isinstance(event, OrderCreated)
    assert (event.aggregate_id, event.customer_id) == (response.result, "cust-123")
    assert stored.value.pending_events == (), "events leave with the response, not the row"


async def test_the_query_handler_reads_through_the_unit_of_work_and_returns_a_dto() -> None:
    store, opened = InMemoryStore(), []
    mediator = build(store, opened)
    created = await mediator.send(CreateOrderCommand(customer_id="cust-123"))

    response = await mediator.send(GetOrderQuery(order_id=created.result))

    assert response.result == OrderDTO(
        order_id=created.result, customer_id="cust-123", status="PENDING", items=[]
    )
    assert not hasattr(response, "events"), "a query response carries no events"
    assert opened[-1].state is UnitOfWorkState.ROLLED_BACK, "a query's unit of work never commits"


async def test_the_query_handler_names_an_order_that_does_not_exist() -> None:
    mediator = build(InMemoryStore(), [])

    with pytest.raises(NotFoundError, match="order-404"):
        await mediator.send(GetOrderQuery(order_id="order-404"))
