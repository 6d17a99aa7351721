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

from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from pydantic import BaseModel, Field

from cqrs_ddd_core.adapters.litestar.app import Commands, Queries
from cqrs_ddd_core.adapters.litestar.auth import Caller
from cqrs_ddd_core.primitives.text import IDENTIFIER, STORABLE_TEXT
from ordering_service.application.commands import CreateOrderCommand, OrderItem, ShipOrderCommand
from ordering_service.application.dtos import OrderDTO
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.domain.order import OrderStatus

OrderId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=STORABLE_TEXT)]


class CreateOrderRequest(BaseModel):
    """``POST /orders``: who orders what (``customer_id`` left out: the caller)."""

    customer_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=IDENTIFIER)
    items: list[OrderItem] = Field(min_length=1, max_length=100)


@post("/orders", summary="Place an order")
async def create_order(
    data: JSONBody[CreateOrderRequest], commands: Commands, queries: Queries, actor: Caller
) -> dict[str, Any]:
    # --8<-- [start:create_order]
    command = CreateOrderCommand(
        customer_id=data.customer_id or actor.id, items=data.items, actor=actor
    )
    # --8<-- [end:create_order]
    order_id = (await commands.send(command)).result
    order = (await queries.send(GetOrderQuery(order_id=order_id, actor=actor))).result
    return {"order_id": order.order_id, "status": order.status, "total": str(order.total)}


@get("/orders/{order_id:str}", summary="One order, with its items")
async def get_order(order_id: OrderId, queries: Queries, actor: Caller) -> dict[str, Any]:
    order: OrderDTO = (await queries.send(GetOrderQuery(order_id=order_id, actor=actor))).result
    return order.model_dump(mode="json")


@get("/orders", summary="Orders, newest first (a customer's: its own)")
async def list_orders(
    queries: Queries,
    actor: Caller,
    customer_id: Annotated[str | None, QueryParameter(max_length=64, pattern=STORABLE_TEXT)] = None,
    status: FromQuery[OrderStatus | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    query = ListOrdersQuery(customer_id=customer_id, status=status, limit=limit, actor=actor)
    return [summary.model_dump(mode="json") for summary in (await queries.send(query)).result]


@post("/orders/{order_id:str}/ship", status_code=200, summary="Ship a confirmed order (operator)")
async def ship_order(
    order_id: OrderId, commands: Commands, queries: Queries, actor: Caller
) -> dict[str, Any]:
    shipment_id = (await commands.send(ShipOrderCommand(order_id=order_id, actor=actor))).result
    order = (await queries.send(GetOrderQuery(order_id=order_id, actor=actor))).result
    return {"order_id": order.order_id, "status": order.status, "shipment_id": shipment_id}


ENDPOINTS = [create_order, get_order, list_orders, ship_order]
