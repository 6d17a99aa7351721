"""The warehouse tells another context of its shipments: outbox, broker, inbox.

The **warehouse** side registers a shipment (``RegisterShipmentCommand``) and announces it:
``ShipmentAnnounced`` is routed to the broker ("integration"), ``SupplierThanked`` to the
notifications outbox, and ``ShipmentNoted`` has no route, so only the warehouse's own read
model hears of it. The handler can fail after writing ("raise") or refuse ("refuse"), which is
how the scenarios show that nothing leaves before the commit.

The **storefront** side - another bounded context - hydrates the message into its *own* class
(`StorefrontShipment`, which keeps only what it needs) and lists the new stock for sale: one
listing row per handled message, so a duplicate would show as two listings.

The thing to notice: the two sides share no class - only the event's name ("ShipmentAnnounced")
and the fields of its payload.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.publishers.decorators import route_to
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.ids import new_id

# --- the warehouse: the command and the events it publishes ----------------------------------


@route_to("integration")
class ShipmentAnnounced(DomainEvent):
    shipment_id: str
    supplier: str
    quantity: int


@route_to("notifications")
class SupplierThanked(DomainEvent):
    shipment_id: str
    text: str


class ShipmentNoted(DomainEvent):
    """No route: only the warehouse's read model hears of it."""

    shipment_id: str


Outcome = Literal["commit", "raise", "refuse"]


class RegisterShipmentCommand(Command[str]):
    shipment_id: str
    supplier: str = "acme"
    quantity: int = 100
    outcome: Outcome = "commit"


@dataclass
class RegisterShipmentHandler:
    routed: bool
    """With routing the shipment also thanks the supplier and notes a read-model-only event."""

    async def handle(self, command: RegisterShipmentCommand) -> CommandResponse[str]:
        uow: InMemoryUnitOfWork = get_current_uow()
        uow.insert("shipments", command.shipment_id, {"quantity": command.quantity})
        if command.outcome == "raise":
            raise RuntimeError(f"registering {command.shipment_id} failed after writing it")
        events: list[DomainEvent] = [
            ShipmentAnnounced(
                shipment_id=command.shipment_id,
                supplier=command.supplier,
                quantity=command.quantity,
            ),
        ]
        if self.routed:
            events.append(SupplierThanked(shipment_id=command.shipment_id, text="thank you"))
            events.append(ShipmentNoted(shipment_id=command.shipment_id))
        return CommandResponse(
            result=command.shipment_id, events=events, success=command.outcome != "refuse"
        )


# --- the storefront: its own model of the event, and the listing handler ---------------------


class StorefrontShipment(DomainEvent):
    """The storefront's own class for "ShipmentAnnounced": it keeps only what it needs."""

    shipment_id: str
    quantity: int


@dataclass
class ListStockOnShipment:
    """The effect: a new listing row per handled event - so a duplicate would show as two."""

    delay: float = 0.0
    failure: str | None = None
    calls: int = 0
    seen: list[DomainEvent] = field(default_factory=list)
    replica: int = 0

    async def handle(self, event: StorefrontShipment) -> None:
        self.calls += 1
        self.seen.append(event)
        uow: InMemoryUnitOfWork = get_current_uow()
        await asyncio.sleep(self.delay)  # the transaction stays open across an await
        if self.failure is not None:
            raise RuntimeError(self.failure)
        listing = {
            "shipment_id": event.shipment_id,
            "quantity": event.quantity,
            "correlation_id": get_correlation_id(),
        }
        uow.insert("listings", new_id(), listing)
