"""Ordering's command handlers: load, call the aggregate, save, return its events.

Each handler gets what it needs through its constructor (the command bus, for the one that
sends a nested command) and its storage through `current_uow()`. `ShipOrderHandler` is the one
to read: it sends `CreateShipmentCommand` nested - same unit of work, a savepoint, one commit.
Scenarios: features/ordering/*.feature. Guide: docs/patterns/nested-commands.md.

Who may do what is decided here, on the command's ``actor``: a customer orders only for
itself, only an operator ships (features/edge/authorisation.feature, docs/security.md).
"""

from __future__ import annotations

from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.ports.bus import ICommandBus
from ordering_service.application.commands import (
    CancelOrderCommand,
    CreateOrderCommand,
    CreateShipmentCommand,
    ExpirePaymentCommand,
    RecordPaymentCommand,
    ShipOrderCommand,
)
from ordering_service.application.ports import current_uow
from ordering_service.domain.order import Order
from ordering_service.domain.order_line import OrderLine
from ordering_service.domain.shipment import Shipment


# --8<-- [start:create-order]
class CreateOrderHandler(CommandHandler[str]):
    async def handle(self, command: CreateOrderCommand) -> CommandResponse[str]:
        command.actor.require_may_act_for(
            command.customer_id, "place an order for another customer"
        )
        lines = [OrderLine(item.sku, item.quantity, item.unit_price) for item in command.items]
        order = Order.place(command.customer_id, lines)
        await current_uow().orders.add(order)
        return CommandResponse(result=order.id, events=order.clear_events())
        # --8<-- [end:create-order]


class RecordPaymentHandler(CommandHandler[None]):
    async def handle(self, command: RecordPaymentCommand) -> CommandResponse[None]:
        orders = current_uow().orders
        order = await orders.get(command.order_id)
        order.payment_captured(command.payment_id)
        await orders.save(order)
        return CommandResponse(result=None, events=order.clear_events())


class ExpirePaymentHandler(CommandHandler[bool]):
    async def handle(self, command: ExpirePaymentCommand) -> CommandResponse[bool]:
        orders = current_uow().orders
        order = await orders.get(command.order_id)
        seconds = f"{command.timeout_seconds:g}"
        cancelled = order.payment_timed_out(
            f"Payment timed out: billing did not answer within {seconds} seconds"
        )
        if cancelled:
            await orders.save(order)
        return CommandResponse(result=cancelled, events=order.clear_events())


class CancelOrderHandler(CommandHandler[None]):
    async def handle(self, command: CancelOrderCommand) -> CommandResponse[None]:
        orders = current_uow().orders
        order = await orders.get(command.order_id)
        order.cancel(command.reason)
        await orders.save(order)
        return CommandResponse(result=None, events=order.clear_events())


# --8<-- [start:ship-order]
class ShipOrderHandler(CommandHandler[str]):
    """Prepares the shipment (a nested command), then marks the order shipped."""

    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, command: ShipOrderCommand) -> CommandResponse[str]:
        command.actor.require_operator("ship an order")
        orders = current_uow().orders
        order = await orders.get(command.order_id)
        # Nested: joins this unit of work. If `ship` refuses below, the shipment goes too.
        shipment = await self._bus.send(CreateShipmentCommand(order_id=order.id))
        order.ship(shipment.result)
        await orders.save(order)
        return CommandResponse(result=shipment.result, events=order.clear_events())
        # --8<-- [end:ship-order]


class CreateShipmentHandler(CommandHandler[str]):
    async def handle(self, command: CreateShipmentCommand) -> CommandResponse[str]:
        shipment = Shipment.prepare(command.order_id)
        await current_uow().shipments.add(shipment)
        return CommandResponse(result=shipment.id, events=shipment.clear_events())
