"""`Shipment`: a second aggregate of ordering, created by a nested command.

It exists to show a nested command of the service's own: `ShipOrderCommand` sends
`CreateShipmentCommand`, and the shipment and the shipped order commit together or not at all.
Scenario: features/ordering/shipping.feature.
"""

from __future__ import annotations

from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.primitives.ids import new_id
from ordering_service.domain.events import ShipmentCreated


class Shipment(AggregateRoot):
    """The parcel prepared for one order."""

    def __init__(self, id: str, order_id: str, *, version: int = 0) -> None:
        super().__init__(id, version)
        self.order_id = order_id

    @classmethod
    def prepare(cls, order_id: str) -> Shipment:
        shipment = cls(new_id(), order_id)
        shipment.add_event(
            ShipmentCreated(aggregate_id=shipment.id, shipment_id=shipment.id, order_id=order_id)
        )
        return shipment
