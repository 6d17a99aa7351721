"""Ordering's query handlers: they read and return DTOs; they never change state.

`GetOrderHandler` reads the aggregate (docs/reference/handlers.md); `ListOrdersHandler` reads
only the order summaries, the read model. Guide: docs/components/queries.md.
"""

from __future__ import annotations

from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.response import QueryResponse
from ordering_service.application.dtos import OrderDTO, OrderSummaryDTO
from ordering_service.application.ports import current_uow
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery


class GetOrderHandler(QueryHandler[OrderDTO]):
    async def handle(self, query: GetOrderQuery) -> QueryResponse[OrderDTO]:
        order = await current_uow().orders.get(query.order_id)
        return QueryResponse(result=OrderDTO.from_aggregate(order))


class ListOrdersHandler(QueryHandler[list[OrderSummaryDTO]]):
    async def handle(self, query: ListOrdersQuery) -> QueryResponse[list[OrderSummaryDTO]]:
        summaries = await current_uow().order_summaries.list(
            customer_id=query.customer_id,
            status=query.status.value if query.status is not None else None,
            limit=query.limit,
        )
        return QueryResponse(result=[OrderSummaryDTO.from_summary(s) for s in summaries])
