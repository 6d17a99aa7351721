"""Ordering's commands: the intents that change orders. Pure data, validated on creation.

Notice `ShipOrderCommand`: its handler sends `CreateShipmentCommand` as a *nested* command,
so both commit once, together. Guide: docs/components/commands.md.

The commands a caller sends over HTTP carry ``actor``, who asked; their handlers decide what
that actor may do (docs/security.md). It defaults to `SYSTEM` - the service acting by itself -
so code that sends them on its own behalf (tests, the spec's examples) need not name one; the
HTTP edge always does. The commands only the service sends (a payment recorded, a deadline
expired, a cancellation, a shipment prepared) carry no actor: no caller can send them.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.primitives.actor import SYSTEM, Actor
from cqrs_ddd_core.primitives.text import IDENTIFIER


class OrderItem(BaseModel):
    """One requested line: ``quantity`` units of ``sku`` at ``unit_price`` each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    quantity: int = Field(ge=1, le=10_000)
    unit_price: Decimal = Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)

    @field_validator("quantity", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # Strict by hand: Litestar validates bodies with strict=False, which overrides a
        # field's own strict=True, and lax pydantic reads ``true`` as 1 and ``"3"`` as 3.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not a {type(value).__name__}")
        return value


MAX_ORDER_TOTAL = Decimal("999999999999.99")
"""The largest amount billing can invoice (14 digits): a larger order could never be paid."""


# --8<-- [start:create-order]
class CreateOrderCommand(Command[str]):
    """Place an order; the result is the new order's id."""

    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    items: list[OrderItem] = Field(min_length=1, max_length=100)
    actor: Actor = SYSTEM

    @field_validator("items")
    @classmethod
    def _payable(cls, items: list[OrderItem]) -> list[OrderItem]:
        total = sum((item.unit_price * item.quantity for item in items), Decimal("0"))
        if total > MAX_ORDER_TOTAL:
            raise ValueError(f"the order total {total} exceeds {MAX_ORDER_TOTAL}")
        return items
        # --8<-- [end:create-order]


class RecordPaymentCommand(Command[None]):
    """Billing captured ``payment_id`` for the order: confirm it, or ask a refund if the
    order was cancelled meanwhile (see `OrderPaymentProcess`)."""

    order_id: str
    payment_id: str


class ExpirePaymentCommand(Command[bool]):
    """The order's payment deadline passed; the result says whether it cancelled the order."""

    order_id: str
    timeout_seconds: float


class CancelOrderCommand(Command[None]):
    """Cancel a pending order, for ``reason``."""

    order_id: str
    reason: str


class ShipOrderCommand(Command[str]):
    """Ship a confirmed order; the result is the shipment's id."""

    order_id: str
    actor: Actor = SYSTEM


class CreateShipmentCommand(Command[str]):
    """Prepare the shipment of an order (sent nested, by `ShipOrderHandler`)."""

    order_id: str
