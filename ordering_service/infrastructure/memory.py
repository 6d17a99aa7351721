"""`OrderingInMemoryUnitOfWork`: ordering's unit of work over the core's in-memory store.

The fake of the Cosmic Python book, but transactional: writes become visible only on commit,
so the unit tests and scenarios show rollbacks and nested savepoints without a database.
It exposes exactly what `OrderingUnitOfWork` (application/ports.py) promises.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.primitives.exceptions import NotFoundError
from ordering_service.application.ports import OrderSummary
from ordering_service.domain.order import Order
from ordering_service.domain.shipment import Shipment

SUMMARIES = "OrderSummary"


class InMemoryOrderSummaryRepository:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    async def save(self, summary: OrderSummary) -> None:
        current = self._uow.get(SUMMARIES, summary.order_id)
        if current is None:
            self._uow.insert(SUMMARIES, summary.order_id, summary)
        else:
            self._uow.update(SUMMARIES, summary.order_id, summary, current[1])

    async def get(self, order_id: str) -> OrderSummary:
        found = self._uow.get(SUMMARIES, order_id)
        if found is None:
            raise NotFoundError(SUMMARIES, order_id)
        summary: OrderSummary = found[0]
        return summary

    async def set_status(self, order_id: str, status: str) -> None:
        found = self._uow.get(SUMMARIES, order_id)
        if found is None:
            raise NotFoundError(SUMMARIES, order_id)
        summary, version = found
        self._uow.update(SUMMARIES, order_id, replace(summary, status=status), version)

    async def list(
        self,
        *,
        customer_id: str | None,
        status: str | None,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[OrderSummary]:
        rows = [await self.get(key) for key in self._uow.keys(SUMMARIES)]
        matching = [
            row
            for row in rows
            if (customer_id is None or row.customer_id == customer_id)
            and (status is None or row.status == status)
            and (after is None or (row.placed_at, row.order_id) < after)
        ]
        matching.sort(key=lambda row: (row.placed_at, row.order_id), reverse=True)
        return matching[:limit]


class OrderingInMemoryUnitOfWork(InMemoryUnitOfWork):
    """Orders, shipments and order summaries, committed together."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__(store)
        self.orders = InMemoryRepository[Order](self, "Order")
        self.shipments = InMemoryRepository[Shipment](self, "Shipment")
        self.order_summaries = InMemoryOrderSummaryRepository(self)
