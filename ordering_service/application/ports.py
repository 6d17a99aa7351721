"""The storage ordering's handlers need, as interfaces (ports).

Handlers depend on these protocols; `infrastructure/` provides an in-memory and a SQL
implementation of each, and `bootstrap.py` picks one. `current_uow()` is the typed way for a
handler to reach the unit of work the mediator opened for the root command.
Guide: docs/components/unit-of-work.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError
from ordering_service.domain.order import Order
from ordering_service.domain.shipment import Shipment

if TYPE_CHECKING:
    from ordering_service.application.read_model import OrderSummary


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def get(self, order_id: str) -> Order:
        """The order; raises `NotFoundError` naming the id."""
        ...

    async def save(self, order: Order) -> None: ...


class ShipmentRepository(Protocol):
    async def add(self, shipment: Shipment) -> None: ...


class OrderSummaryRepository(Protocol):
    async def save(self, summary: OrderSummary) -> None:
        """Insert or replace the summary of ``summary.order_id``."""
        ...

    async def get(self, order_id: str) -> OrderSummary:
        """The summary; raises `NotFoundError` naming the id."""
        ...

    async def list(
        self, *, customer_id: str | None, status: str | None, limit: int
    ) -> list[OrderSummary]:
        """Summaries, newest first."""
        ...


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
