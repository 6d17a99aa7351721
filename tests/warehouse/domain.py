"""The warehouse's domain: deliveries, putaways and shelves - no framework, no storage.

* `Delivery` - goods that arrived from a supplier (``quantity`` units); a recount corrects it.
* `Putaway` - where the goods of one delivery were shelved (created by the nested command).
* `Shelf` - a place holding stock; stock moves between two shelves (the transfer the locking
  tests use), and a restock adds to it.

The thing to notice: every state change records an event on the aggregate; what happens with
those events (in-process handlers, the outbox, another context) is decided elsewhere.
"""

from __future__ import annotations

from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import DomainError


class DeliveryReceived(DomainEvent):
    delivery_id: str
    supplier: str
    quantity: int


class DeliveryRecounted(DomainEvent):
    delivery_id: str
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


class Delivery(AggregateRoot):
    def __init__(self, id: str, supplier: str, quantity: int) -> None:
        super().__init__(id)
        self.supplier = supplier
        self.quantity = quantity

    @classmethod
    def receive(cls, delivery_id: str, supplier: str, quantity: int) -> Delivery:
        delivery = cls(delivery_id, supplier, quantity)
        delivery.add_event(
            DeliveryReceived(
                aggregate_id=delivery_id,
                delivery_id=delivery_id,
                supplier=supplier,
                quantity=quantity,
            )
        )
        return delivery

    def recount(self, quantity: int) -> None:
        self.quantity = quantity
        self.add_event(
            DeliveryRecounted(aggregate_id=self.id, delivery_id=self.id, quantity=quantity)
        )


class Putaway(AggregateRoot):
    """The goods of delivery ``id`` went onto ``shelf_id``."""

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
