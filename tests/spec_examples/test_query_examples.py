"""docs/reference/messages.md, queries: GetOrderQuery, ListOrdersQuery and sending one.

The declarations are the spec's, verbatim. The example's ``mediator`` is a fill-in: a query
handler registered for the spec's ``GetOrderQuery`` over a store holding ``"order-123"``.
"""

from __future__ import annotations

import uuid

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import QueryResponse
from tests.spec_examples.spec_domain import Order, OrderDTO, OrderUnitOfWork, seed_order

# --- spec: Queries (its import is at the top of this file) ---


class GetOrderQuery(Query[OrderDTO]):
    """Query to get order by ID."""

    order_id: str


class ListOrdersQuery(Query[list[OrderDTO]]):
    """Query to list orders."""

    customer_id: str | None = None
    status: str | None = None
    limit: int = 100


# --- end of the declarations ---


class GetOrderHandler(QueryHandler[OrderDTO]):  # fill-in
    async def handle(self, query: GetOrderQuery) -> QueryResponse[OrderDTO]:
        order = await get_current_uow().orders.get(query.order_id)
        return QueryResponse(result=OrderDTO.from_aggregate(order))


class ListOrdersHandler(QueryHandler[list[OrderDTO]]):  # fill-in
    async def handle(self, query: ListOrdersQuery) -> QueryResponse[list[OrderDTO]]:
        orders: list[Order] = await get_current_uow().orders.list()
        matching = [
            OrderDTO.from_aggregate(order)
            for order in sorted(orders, key=lambda order: order.id)
            if query.customer_id in (None, order.customer_id)
            and query.status in (None, order.status)
        ]
        return QueryResponse(result=matching[: query.limit])


def build_mediator(store: InMemoryStore) -> Mediator:
    registry = HandlerRegistry()
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())
    registry.register_query_handler(ListOrdersQuery, ListOrdersHandler())
    return Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))


async def test_get_order_query_returns_a_typed_dto() -> None:
    store = InMemoryStore()
    await seed_order(store, "order-123", customer_id="cust-123")
    mediator = build_mediator(store)

    # --- spec: Queries / Usage ---
    query = GetOrderQuery(order_id="order-123")
    response = await mediator.send(query)

    order_dto: OrderDTO = response.result  # Typed result
    # --- end of the example ---

    assert isinstance(order_dto, OrderDTO)
    assert order_dto == OrderDTO(
        order_id="order-123", customer_id="cust-123", status="PENDING", items=[]
    )
    assert response.causation_id == query.query_id
    assert uuid.UUID(query.query_id).version == 4, "query_id is auto-generated"


async def test_a_query_changes_nothing() -> None:
    store = InMemoryStore()
    await seed_order(store, "order-123")
    mediator = build_mediator(store)

    await mediator.send(GetOrderQuery(order_id="order-123"))

    assert store.committed("orders", "order-123").version == 1, "read, never written"


async def test_list_orders_query_filters_with_its_defaults() -> None:
    store = InMemoryStore()
    await seed_order(store, "order-1", customer_id="cust-1")
    await seed_order(store, "order-2", customer_id="cust-2")
    await seed_order(store, "order-3", customer_id="cust-1")
    mediator = build_mediator(store)

    everything = ListOrdersQuery()
    assert (everything.customer_id, everything.status, everything.limit) == (None, None, 100)
    all_orders = (await mediator.send(everything)).result
    mine = (await mediator.send(ListOrdersQuery(customer_id="cust-1"))).result
    first = (await mediator.send(ListOrdersQuery(limit=1))).result

    assert [dto.order_id for dto in all_orders] == ["order-1", "order-2", "order-3"]
    assert [dto.order_id for dto in mine] == ["order-1", "order-3"]
    assert [dto.order_id for dto in first] == ["order-1"]
    assert all(isinstance(dto, OrderDTO) and isinstance(dto.items, list) for dto in all_orders)
