"""docs/reference/messages.md, responses: with events, for a query, and a failure.

The three ``return`` statements are the spec's, verbatim, each in the handler it belongs
to (the handlers, ``order`` and ``OrderDTO`` are fill-ins). What the example implies is
asserted through the mediator: events travel with a successful command, and
``success=False`` rolls the command back and dispatches nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler, QueryHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from tests.spec_examples.spec_domain import (
    Order,
    OrderCreated,
    OrderCreatedHandler,
    OrderDTO,
    OrderUnitOfWork,
    fresh_journal,
    seed_order,
)


class CreateOrder(Command[str]):
    customer_id: str


class RejectOrder(Command[None]):
    customer_id: str


class ReadOrder(Query[OrderDTO]):
    order_id: str


class CreateOrderHandler(CommandHandler[str]):
    async def handle(self, command: CreateOrder) -> CommandResponse[str]:
        order = Order.create(command.customer_id, [])
        await get_current_uow().orders.add(order)
        # --- spec: Responses / Command response with events ---
        return CommandResponse(
            result=order.id,
            events=order.clear_events(),
            success=True,
        )


class ReadOrderHandler(QueryHandler[OrderDTO]):
    async def handle(self, query: ReadOrder) -> QueryResponse[OrderDTO]:
        order = await get_current_uow().orders.get(query.order_id)
        # --- spec: Responses / Query response (no events) ---
        return QueryResponse(
            result=OrderDTO.from_aggregate(order),
        )


class RejectOrderHandler(CommandHandler[None]):
    async def handle(self, command: RejectOrder) -> CommandResponse[None]:
        # Work done before the business rule says no: it must not survive.
        order = Order.create(command.customer_id, [])
        await get_current_uow().orders.add(order)
        # --- spec: Responses / Failed response ---
        return CommandResponse(
            result=None,
            events=[],
            success=False,
        )


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def mediator(store: InMemoryStore) -> Mediator:
    registry = HandlerRegistry()
    registry.register_command_handler(CreateOrder, CreateOrderHandler())
    registry.register_command_handler(RejectOrder, RejectOrderHandler())
    registry.register_query_handler(ReadOrder, ReadOrderHandler())
    registry.register_event_handler(OrderCreated, OrderCreatedHandler())
    return Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))


async def test_a_command_response_carries_the_result_and_its_events(
    mediator: Mediator, store: InMemoryStore
) -> None:
    journal = fresh_journal()

    response = await mediator.send(CreateOrder(customer_id="cust-123"))

    assert response.success is True
    assert store.committed("orders", response.result) is not None
    [event] = response.events
    assert isinstance(event, OrderCreated)
    assert event.aggregate_id == response.result
    assert journal.events == [("OrderCreatedHandler", event)], "its events were dispatched"
    assert (event.correlation_id, event.causation_id) == (
        response.correlation_id,
        response.causation_id,
    )


async def test_a_query_response_carries_only_the_result(
    mediator: Mediator, store: InMemoryStore
) -> None:
    await seed_order(store, "order-123", customer_id="cust-123")
    query = ReadOrder(order_id="order-123")

    response = await mediator.send(query)

    assert response.result.order_id == "order-123"
    assert response.success is True
    assert response.causation_id == query.query_id
    assert "events" not in {f.name for f in dataclasses.fields(response)}


async def test_a_failed_response_rolls_the_command_back_and_dispatches_nothing(
    mediator: Mediator, store: InMemoryStore
) -> None:
    journal = fresh_journal()

    response = await mediator.send(RejectOrder(customer_id="cust-123"))

    assert response.success is False
    assert response.result is None
    assert store.keys("orders") == [], "the order written before the failure was rolled back"
    assert journal.commits == 0
    assert journal.events == []


def test_responses_are_immutable() -> None:
    response = CommandResponse(result="order-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.success = False  # type: ignore[misc]
    assert (response.events, response.success) == ([], True)
