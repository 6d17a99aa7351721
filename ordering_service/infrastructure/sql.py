"""`OrderingSqlUnitOfWork`: ordering's repositories over one SQLAlchemy session.

The unit of work hands every repository the *same* session, so the order, its summary and the
outbox rows of its events are written in one transaction. The repositories only map rows to
aggregates and back; the optimistic version check is the core's `SqlAlchemyRepository.save`.
Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

import builtins
import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from cqrs_ddd_core.adapters.sqlalchemy.engine import insert_for
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.primitives.exceptions import NotFoundError
from ordering_service.application.ports import OrderSummary
from ordering_service.domain.order import Order, OrderStatus
from ordering_service.domain.order_line import OrderLine
from ordering_service.domain.shipment import Shipment
from ordering_service.infrastructure.tables import order_summaries, orders, shipments


class SqlOrderRepository(SqlAlchemyRepository[Order]):
    table = orders

    @property
    def kind(self) -> str:
        return "Order"  # as the in-memory store names it: one error text in every mode

    def _to_row(self, order: Order) -> dict[str, Any]:
        return {
            "customer_id": order.customer_id,
            "status": order.status.value,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
                for line in order.lines
            ],
            "payment_id": order.payment_id,
            "shipment_id": order.shipment_id,
            "cancellation_reason": order.cancellation_reason,
        }

    def _from_row(self, row: RowMapping) -> Order:
        return Order(
            row["id"],
            row["customer_id"],
            [OrderLine(line["sku"], line["quantity"], line["unit_price"]) for line in row["lines"]],
            OrderStatus(row["status"]),
            payment_id=row["payment_id"],
            shipment_id=row["shipment_id"],
            cancellation_reason=row["cancellation_reason"],
        )


class SqlShipmentRepository(SqlAlchemyRepository[Shipment]):
    table = shipments

    @property
    def kind(self) -> str:
        return "Shipment"  # as the in-memory store names it: one error text in every mode

    def _to_row(self, shipment: Shipment) -> dict[str, Any]:
        return {"order_id": shipment.order_id}

    def _from_row(self, row: RowMapping) -> Shipment:
        return Shipment(row["id"], row["order_id"])


class SqlOrderSummaryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, summary: OrderSummary) -> None:
        values = {
            "order_id": summary.order_id,
            "customer_id": summary.customer_id,
            "status": summary.status,
            "total": summary.total,
            "item_count": summary.item_count,
            "placed_at": summary.placed_at,
        }
        dialect = self._session.get_bind().dialect.name
        await self._session.execute(_upsert_summary(dialect), values)

    async def get(self, order_id: str) -> OrderSummary:
        result = await self._session.execute(SUMMARY_OF_ORDER, {"order_id": order_id})
        row = result.mappings().one_or_none()
        if row is None:
            raise NotFoundError(order_summaries.name, order_id)
        return _summary(row)

    async def set_status(self, order_id: str, status: str) -> None:
        result = await self._session.execute(
            SET_SUMMARY_STATUS, {"summary_of": order_id, "new_status": status}
        )
        if cast("CursorResult[Any]", result).rowcount == 0:
            raise NotFoundError(order_summaries.name, order_id)

    async def list(
        self,
        *,
        customer_id: str | None,
        status: str | None,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> builtins.list[OrderSummary]:
        query = select(order_summaries)
        if customer_id is not None:
            query = query.where(order_summaries.c.customer_id == customer_id)
        if status is not None:
            query = query.where(order_summaries.c.status == status)
        if after is not None:
            # The keyset: rows after the previous page's last one in (placed_at, id) desc.
            placed_at, order_id = after
            query = query.where(
                or_(
                    order_summaries.c.placed_at < placed_at,
                    and_(
                        order_summaries.c.placed_at == placed_at,
                        order_summaries.c.order_id < order_id,
                    ),
                )
            )
        query = query.order_by(
            order_summaries.c.placed_at.desc(), order_summaries.c.order_id.desc()
        ).limit(limit)
        result = await self._session.execute(query)
        return [_summary(row) for row in result.mappings()]


def _summary(row: RowMapping) -> OrderSummary:
    return OrderSummary(
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        status=row["status"],
        total=row["total"],
        item_count=row["item_count"],
        placed_at=row["placed_at"],
    )


# Every order's summary statements, built once and bound per call (see `RepositoryStatements`).
SUMMARY_OF_ORDER = select(order_summaries).where(
    order_summaries.c.order_id == bindparam("order_id")
)
SET_SUMMARY_STATUS = (
    update(order_summaries)
    .where(order_summaries.c.order_id == bindparam("summary_of"))
    .values(status=bindparam("new_status"))
)


@functools.cache
def _upsert_summary(dialect: str) -> Any:
    """Insert the summary, or overwrite every column of the one already there."""
    insert = insert_for(dialect)(order_summaries)
    changed = {
        column.name: insert.excluded[column.name]
        for column in order_summaries.columns
        if column.name != "order_id"
    }
    return insert.on_conflict_do_update(index_elements=["order_id"], set_=changed)


# --8<-- [start:unit-of-work]
class OrderingSqlUnitOfWork(SqlAlchemyUnitOfWork):
    """Orders, shipments and order summaries in one database transaction."""

    @property
    def orders(self) -> SqlOrderRepository:
        return SqlOrderRepository(self.session)

    @property
    def shipments(self) -> SqlShipmentRepository:
        return SqlShipmentRepository(self.session)

    @property
    def order_summaries(self) -> SqlOrderSummaryRepository:
        return SqlOrderSummaryRepository(self.session)
        # --8<-- [end:unit-of-work]
