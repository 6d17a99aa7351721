"""Ordering's query handlers: they read and return DTOs; they never change state.

`GetOrderHandler` reads the aggregate (docs/reference/handlers.md); `ListOrdersHandler` reads
only the order summaries, the read model. Guide: docs/components/queries.md.

A customer reads only its own orders. Another's answers as an unknown order would (404), so
a customer cannot even learn that it exists - and that needs the order loaded first, which is
why the check lives in the handler and not at the HTTP edge (docs/security.md).
"""

from __future__ import annotations

from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.response import QueryResponse
from cqrs_ddd_core.primitives.exceptions import NotFoundError
from ordering_service.application.dtos import OrderDTO, OrderSummaryDTO
from ordering_service.application.ports import current_uow
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery


class GetOrderHandler(QueryHandler[OrderDTO]):
    async def handle(self, query: GetOrderQuery) -> QueryResponse[OrderDTO]:
        order = await current_uow().orders.get(query.order_id)
        # --8<-- [start:hidden]
        if not query.actor.may_act_for(order.customer_id):
            raise NotFoundError("Order", query.order_id)  # as if it did not exist
        # --8<-- [end:hidden]
        return QueryResponse(result=OrderDTO.from_aggregate(order))


class ListOrdersHandler(QueryHandler[list[OrderSummaryDTO]]):
    async def handle(self, query: ListOrdersQuery) -> QueryResponse[list[OrderSummaryDTO]]:
        customer_id = query.customer_id
        if not query.actor.is_operator:  # a customer's list holds its own orders, whatever it asks
            if customer_id not in (None, query.actor.id):
                return QueryResponse(result=[])
            customer_id = query.actor.id
        summaries = await current_uow().order_summaries.list(
            customer_id=customer_id,
            status=query.status.value if query.status is not None else None,
            limit=query.limit,
            after=query.after,
        )
        return QueryResponse(result=[OrderSummaryDTO.from_summary(s) for s in summaries])
