"""Ordering's HTTP API (Litestar): requests in, commands and queries to the mediator, DTOs out.

The one thing to notice: the API holds no business logic. It validates the *shape* of the
input (a 400 naming the field), sends one command (through ``commands``, an `ICommandBus`) or
query (through ``queries``, an `IQueryBus`), and the core maps the application's errors to
status codes: unknown id -> 404, a refused state change -> 409 with the reason, a database
too busy or gone -> 503. Money arrives as a decimal string or a number and leaves as a decimal
string. `ENDPOINTS` is what the service host serves, next to ``/health`` and
``/notifications``. OpenAPI: ``/schema``. Guide: docs/patterns/bounded-contexts.md.

Every route asks for ``actor: Caller`` - the caller its bearer token proved - and hands it to
the command or query: what that caller may do is the application's decision, not the route's
(docs/security.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from pydantic import Field

from cqrs_ddd_core.adapters.litestar.app import Commands, Queries
from cqrs_ddd_core.adapters.litestar.auth import Caller
from cqrs_ddd_core.adapters.litestar.json_body import RequestBody
from cqrs_ddd_core.adapters.litestar.paging import (
    DEFAULT_PAGE,
    PageCursor,
    PageLimit,
    decode_cursor,
    page,
)
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.text import IDENTIFIER, STORABLE_TEXT
from ordering_service.application.commands import CreateOrderCommand, OrderItem, ShipOrderCommand
from ordering_service.application.dtos import OrderDTO
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.domain.events import OrderCreated
from ordering_service.domain.order import OrderStatus

OrderId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=STORABLE_TEXT)]


class CreateOrderRequest(RequestBody):
    """``POST /orders``: who orders what (``customer_id`` left out: the caller)."""

    customer_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=IDENTIFIER)
    items: list[OrderItem] = Field(min_length=1, max_length=100)


@post("/orders", summary="Place an order")
async def create_order(
    data: JSONBody[CreateOrderRequest], commands: Commands, actor: Caller
) -> dict[str, Any]:
    # --8<-- [start:create_order]
    command = CreateOrderCommand(
        customer_id=data.customer_id or actor.id, items=data.items, actor=actor
    )
    # --8<-- [end:create_order]
    # --8<-- [start:create-order-answer]
    response = await commands.send(command)
    # The answer is what the command did, read from its own event: no query after the write.
    # A client that wants the order as it is now (paid, perhaps) asks GET /orders/{id}.
    created = _order_created(response.events)
    return {
        "order_id": created.order_id,
        "status": OrderStatus.PENDING,
        "total": str(created.total),
    }
    # --8<-- [end:create-order-answer]


def _order_created(events: list[DomainEvent]) -> OrderCreated:
    for event in events:
        if isinstance(event, OrderCreated):
            return event
    raise TypeError(f"CreateOrderCommand answered without an OrderCreated event: {events!r}")


@get("/orders/{order_id:str}", summary="One order, with its items")
async def get_order(order_id: OrderId, queries: Queries, actor: Caller) -> dict[str, Any]:
    order: OrderDTO = (await queries.send(GetOrderQuery(order_id=order_id, actor=actor))).result
    return order.model_dump(mode="json")


@get("/orders", summary="Orders, newest first (from the order summaries), a page at a time")
async def list_orders(
    request: Request[Any, Any, Any],
    queries: Queries,
    actor: Caller,
    customer_id: Annotated[str | None, QueryParameter(max_length=64, pattern=STORABLE_TEXT)] = None,
    status: FromQuery[OrderStatus | None] = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> Response[list[Any]]:
    after = decode_cursor(cursor, _order_key)
    query = ListOrdersQuery(
        customer_id=customer_id, status=status, limit=limit + 1, after=after, actor=actor
    )
    summaries = (await queries.send(query)).result
    return page(
        request,
        summaries,
        limit,
        key=lambda s: (s.placed_at.isoformat(), s.order_id),
        dump=lambda s: s.model_dump(mode="json"),
    )


def _order_key(key: list[str]) -> tuple[datetime, str]:
    placed_at, order_id = key  # a ValueError for a key of another length
    return datetime.fromisoformat(placed_at), order_id


@post("/orders/{order_id:str}/ship", status_code=200, summary="Ship a confirmed order (operator)")
async def ship_order(
    order_id: OrderId, commands: Commands, queries: Queries, actor: Caller
) -> dict[str, Any]:
    shipment_id = (await commands.send(ShipOrderCommand(order_id=order_id, actor=actor))).result
    order = (await queries.send(GetOrderQuery(order_id=order_id, actor=actor))).result
    return {"order_id": order.order_id, "status": order.status, "shipment_id": shipment_id}


ENDPOINTS = [create_order, get_order, list_orders, ship_order]
