"""The order summaries: a read model kept up to date by in-process event handlers.

This is the Q of CQRS. `OrderSummaryProjection` listens to ordering's own events and writes
one flat row per order; `ListOrdersQuery` reads those rows and never loads an `Order`. The
projection runs inside the command's unit of work, so a summary is never ahead of, or behind,
the order it describes. The row, `OrderSummary`, is defined in `ports.py` beside the
repository that stores it. Guide: docs/patterns/read-model.md.
"""

from __future__ import annotations

from cqrs_ddd_core.domain.events import DomainEvent
from ordering_service.application.ports import OrderSummary, current_uow
from ordering_service.domain.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
)
from ordering_service.domain.order import OrderStatus


# --8<-- [start:projection]
class OrderSummaryProjection:
    """Applies ordering's events to the order summaries (register it for each event type)."""

    handles: tuple[type[DomainEvent], ...] = (
        OrderCreated,
        OrderConfirmed,
        OrderCancelled,
        OrderShipped,
    )

    async def handle(self, event: DomainEvent) -> None:
        summaries = current_uow().order_summaries
        match event:
            case OrderCreated():
                await summaries.save(
                    OrderSummary(
                        order_id=event.order_id,
                        customer_id=event.customer_id,
                        status=OrderStatus.PENDING.value,
                        total=event.total,
                        item_count=sum(line.quantity for line in event.items),
                        placed_at=event.occurred_at,
                    )
                )
            case OrderConfirmed() | OrderCancelled() | OrderShipped():
                # Only the status moves: written as is, with no read of the row first.
                await summaries.set_status(event.order_id, _STATUS_AFTER[type(event)].value)
            case _:
                raise TypeError(f"OrderSummaryProjection does not handle {event.type_name()}")
                # --8<-- [end:projection]


_STATUS_AFTER: dict[type[DomainEvent], OrderStatus] = {
    OrderConfirmed: OrderStatus.CONFIRMED,
    OrderCancelled: OrderStatus.CANCELLED,
    OrderShipped: OrderStatus.SHIPPED,
}
