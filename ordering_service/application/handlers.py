"""Every handler of ordering, registered: where to look up what handles a message.

The thing to notice: handlers get what they need through their constructors - the bus for
those that send nested commands, the payment process for `OrderCreated` - and nothing here
knows a database or a broker. The composition root (bootstrap.py) calls this with the real
bus and process; the handler tests call it with their own.
"""

from __future__ import annotations

from cqrs_ddd_core.adapters.memory.deadlines import InMemoryDeadlineStorage
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.ports.bus import ICommandBus
from ordering_service.application.command_handlers import (
    CancelOrderHandler,
    CreateOrderHandler,
    CreateShipmentHandler,
    ExpirePaymentHandler,
    RecordPaymentHandler,
    ShipOrderHandler,
)
from ordering_service.application.commands import (
    CancelOrderCommand,
    CreateOrderCommand,
    CreateShipmentCommand,
    ExpirePaymentCommand,
    RecordPaymentCommand,
    ShipOrderCommand,
)
from ordering_service.application.payment_process import OrderPaymentProcess
from ordering_service.application.queries import GetOrderQuery, ListOrdersQuery
from ordering_service.application.query_handlers import GetOrderHandler, ListOrdersHandler
from ordering_service.application.read_model import OrderSummaryProjection
from ordering_service.domain.events import OrderCreated


# --8<-- [start:register]
def register_handlers(
    registry: HandlerRegistry, bus: ICommandBus, process: OrderPaymentProcess | None = None
) -> None:
    """Every command, query and in-process event handler of ordering.

    ``process`` starts each order's payment deadline; without one (the handler tests) the
    deadlines wait in memory.
    """
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())
    registry.register_command_handler(RecordPaymentCommand, RecordPaymentHandler())
    registry.register_command_handler(ExpirePaymentCommand, ExpirePaymentHandler())
    registry.register_command_handler(CancelOrderCommand, CancelOrderHandler())
    registry.register_command_handler(ShipOrderCommand, ShipOrderHandler(bus))
    registry.register_command_handler(CreateShipmentCommand, CreateShipmentHandler())
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())
    registry.register_query_handler(ListOrdersQuery, ListOrdersHandler())
    projection = OrderSummaryProjection()
    for event_type in OrderSummaryProjection.handles:
        registry.register_event_handler(event_type, projection)
    process = process or OrderPaymentProcess(bus, InMemoryDeadlineStorage())
    registry.register_event_handler(OrderCreated, process)
    # --8<-- [end:register]
