"""What ordering's queries return: plain data with no behaviour, safe to serialise.

DTOs are built from an aggregate or a read-model row; a caller can never reach the aggregate
through them. ``model_dump(mode="json")`` writes money as decimal strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ordering_service.application.ports import OrderSummary
from ordering_service.domain.order import Order


class OrderLineDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int
    unit_price: Decimal


class OrderDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    status: str
    total: Decimal
    items: list[OrderLineDTO]
    cancellation_reason: str | None = None
    shipment_id: str | None = None

    @classmethod
    def from_aggregate(cls, order: Order) -> OrderDTO:
        return cls(
            order_id=order.id,
            customer_id=order.customer_id,
            status=order.status.value,
            total=order.total,
            items=[
                OrderLineDTO(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
                for line in order.lines
            ],
            cancellation_reason=order.cancellation_reason,
            shipment_id=order.shipment_id,
        )


class OrderSummaryDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    status: str
    total: Decimal
    item_count: int
    placed_at: datetime
    """When the order was placed: the list's sort key, with the id as the tiebreak."""

    @classmethod
    def from_summary(cls, summary: OrderSummary) -> OrderSummaryDTO:
        return cls(
            order_id=summary.order_id,
            customer_id=summary.customer_id,
            status=summary.status,
            total=summary.total,
            item_count=summary.item_count,
            placed_at=summary.placed_at,
        )
