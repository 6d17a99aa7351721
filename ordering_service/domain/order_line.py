"""`OrderLine`: a value object - what was ordered, how many, at what unit price.

Immutable and validated on creation, so an `Order` can never hold a line with a zero quantity
or a negative price. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cqrs_ddd_core.primitives.exceptions import DomainError
from ordering_service.domain.money import to_money


@dataclass(frozen=True)
class OrderLine:
    """One line of an order: ``quantity`` units of ``sku`` at ``unit_price`` each."""

    sku: str
    quantity: int
    unit_price: Decimal

    def __post_init__(self) -> None:
        if not self.sku.strip():
            raise DomainError("An order line needs a sku")
        if self.quantity < 1:
            raise DomainError(f"Quantity of {self.sku!r} must be at least 1, got {self.quantity}")
        price = to_money(self.unit_price, field=f"unit_price of {self.sku!r}")
        if price < 0:
            raise DomainError(f"unit_price of {self.sku!r} cannot be negative, got {price}")
        object.__setattr__(self, "unit_price", price)

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity
