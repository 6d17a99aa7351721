"""The storage ordering's handlers need, as interfaces (ports).

Handlers depend on these protocols; `infrastructure/` provides an in-memory and a SQL
implementation of each, and `bootstrap.py` picks one. `current_uow()` is the typed way for a
handler to reach the unit of work the mediator opened for the root command.
Guide: docs/components/unit-of-work.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError
from ordering_service.domain.order import Order
from ordering_service.domain.shipment import Shipment


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def get(self, order_id: str) -> Order:
        """The order; raises `NotFoundError` naming the id."""
        ...

    async def save(self, order: Order) -> None: ...


class ShipmentRepository(Protocol):
    async def add(self, shipment: Shipment) -> None: ...


# --8<-- [start:order-summary]
@dataclass(frozen=True)
class OrderSummary:
    """One row of the read model (`read_model.py` writes it, the list query reads it).

    Defined with its repository, not with the projection: the projection needs
    `current_uow()` from here, and two modules that import each other cannot be read apart.
    """

    order_id: str
    customer_id: str
    status: str
    total: Decimal
    item_count: int
    placed_at: datetime
    # --8<-- [end:order-summary]


class OrderSummaryRepository(Protocol):
    async def save(self, summary: OrderSummary) -> None:
        """Insert or replace the summary of ``summary.order_id``."""
        ...

    async def get(self, order_id: str) -> OrderSummary:
        """The summary; raises `NotFoundError` naming the id."""
        ...

    async def set_status(self, order_id: str, status: str) -> None:
        """Change only the summary's status, without reading it; `NotFoundError` if it has none."""
        ...

    async def list(
        self,
        *,
        customer_id: str | None,
        status: str | None,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[OrderSummary]:
        """Summaries, newest first (ties by id); with ``after``, only those after that
        ``(placed_at, order_id)`` in this order."""
        ...


# --8<-- [start:current-uow]
class OrderingUnitOfWork(Protocol):
    orders: OrderRepository
    shipments: ShipmentRepository
    order_summaries: OrderSummaryRepository


def current_uow() -> OrderingUnitOfWork:
    """The unit of work of the message being handled; an error outside the mediator."""
    uow: OrderingUnitOfWork | None = get_current_uow()
    if uow is None:
        raise UnitOfWorkError("No unit of work: ordering handlers run only through Mediator.send")
    return uow
    # --8<-- [end:current-uow]
