"""Ordering's queries: reads that return DTOs, never aggregates.

`ListOrdersQuery` is answered from the order summaries (the read model kept by
`OrderSummaryProjection`), not from the `Order` aggregates. Guide: docs/components/queries.md.
Each carries ``actor``, who asked (`SYSTEM` unless the HTTP edge says otherwise): a customer
sees only its own orders (docs/security.md).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.primitives.actor import SYSTEM, Actor
from ordering_service.application.dtos import OrderDTO, OrderSummaryDTO
from ordering_service.domain.order import OrderStatus


class GetOrderQuery(Query[OrderDTO]):
    order_id: str
    actor: Actor = SYSTEM


class ListOrdersQuery(Query[list[OrderSummaryDTO]]):
    """Orders, newest first (ties by id), optionally of one customer and in one status.

    ``after`` pages on: only the orders after that ``(placed_at, order_id)``, the key of the
    last order of the previous page. ``limit`` goes to 1001: the API asks one row past a page
    of 1000 to learn whether there is a next page.
    """

    customer_id: str | None = None
    status: OrderStatus | None = None
    limit: int = Field(default=100, ge=1, le=1001)
    after: tuple[datetime, str] | None = None
    actor: Actor = SYSTEM
