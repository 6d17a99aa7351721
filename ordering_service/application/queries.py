"""Ordering's queries: reads that return DTOs, never aggregates.

`ListOrdersQuery` is answered from the order summaries (the read model kept by
`OrderSummaryProjection`), not from the `Order` aggregates. Guide: docs/components/queries.md.
Each carries ``actor``, who asked (`SYSTEM` unless the HTTP edge says otherwise): a customer
sees only its own orders (docs/security.md).
"""

from __future__ import annotations

from pydantic import Field

from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.primitives.actor import SYSTEM, Actor
from ordering_service.application.dtos import OrderDTO, OrderSummaryDTO
from ordering_service.domain.order import OrderStatus


class GetOrderQuery(Query[OrderDTO]):
    order_id: str
    actor: Actor = SYSTEM


class ListOrdersQuery(Query[list[OrderSummaryDTO]]):
    """Orders, newest first, optionally of one customer and in one status."""

    customer_id: str | None = None
    status: OrderStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    actor: Actor = SYSTEM
