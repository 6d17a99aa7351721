"""The warehouse's domain: shipments, putaways and shelves - no framework, no storage.

* `Shipment` - goods that arrived from a supplier (``quantity`` units); a recount corrects it.
* `Putaway` - where the goods of one shipment were shelved (created by the nested command).
* `Shelf` - a place holding stock; stock moves between two shelves (the transfer the locking
  tests use), and a restock adds to it.

The thing to notice: every state change records an event on the aggregate; what happens with
those events (in-process handlers, the outbox, another context) is decided elsewhere.
"""

from __future__ import annotations

from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import DomainError


class ShipmentReceived(DomainEvent):
    shipment_id: str
    supplier: str
    quantity: int


class ShipmentRecounted(DomainEvent):
    shipment_id: str
    quantity: int


class GoodsPutAway(DomainEvent):
    shelf_id: str
    quantity: int


class ShelfRestocked(DomainEvent):
    quantity: int
    """The shelf's quantity after the restock."""


class NotEnoughStockError(DomainError):
    def __init__(self, shelf_id: str, quantity: int, wanted: int) -> None:
        super().__init__(f"Shelf {shelf_id!r} holds {quantity}, cannot take {wanted}")


class Shipment(AggregateRoot):
    def __init__(self, id: str, supplier: str, quantity: int) -> None:
        super().__init__(id)
        self.supplier = supplier
        self.quantity = quantity

    @classmethod
    def receive(cls, shipment_id: str, supplier: str, quantity: int) -> Shipment:
        shipment = cls(shipment_id, supplier, quantity)
        shipment.add_event(
            ShipmentReceived(
                aggregate_id=shipment_id,
                shipment_id=shipment_id,
                supplier=supplier,
                quantity=quantity,
            )
        )
        return shipment

    def recount(self, quantity: int) -> None:
        self.quantity = quantity
        self.add_event(
            ShipmentRecounted(aggregate_id=self.id, shipment_id=self.id, quantity=quantity)
        )


class Putaway(AggregateRoot):
    """The goods of shipment ``id`` went onto ``shelf_id``."""

    def __init__(self, id: str, shelf_id: str, quantity: int) -> None:
        super().__init__(id)
        self.shelf_id = shelf_id
        self.quantity = quantity
        self.add_event(GoodsPutAway(aggregate_id=id, shelf_id=shelf_id, quantity=quantity))


class Shelf(AggregateRoot):
    def __init__(self, id: str, quantity: int = 0) -> None:
        super().__init__(id)
        self.quantity = quantity

    def restock(self, quantity: int = 1) -> None:
        self.quantity += quantity
        self.add_event(ShelfRestocked(aggregate_id=self.id, quantity=self.quantity))

    def take(self, quantity: int) -> None:
        if quantity > self.quantity:
            raise NotEnoughStockError(self.id, self.quantity, quantity)
        self.quantity -= quantity

    def put(self, quantity: int) -> None:
        self.quantity += quantity
