"""Billing's commands. Two to read closely:

* `TransferFundsCommand` declares both accounts in ``get_critical_resources()``: the locking
  middleware holds them in one `CriticalSection` - sorted, so two opposite transfers never
  deadlock.
* `PayInvoiceCommand` declares the same two accounts (and the order's invoice). Its handler
  sends `TransferFundsCommand` *nested*, which re-enters the locks its root already holds
  (same root session) instead of waiting for itself.

`RefundPaymentCommand` is the payment run backwards - same locks, a nested transfer from the
merchant - and `RecordOrderCancelledCommand` takes the invoice's lock so it cannot interleave
with a payment of the same order. Scenarios: features/billing/*.feature,
features/cross_context/payment_deadline.feature. Guide: docs/patterns/transfer-funds-locking.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from cqrs_ddd_core.primitives.text import IDENTIFIER

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False)
]


class OpenAccountCommand(Command[str]):
    """Open ``account_id`` with an opening ``balance``; the result is the account id."""

    account_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    balance: Money = Decimal("0")


class DepositCommand(Command[Decimal]):
    """Add ``amount`` to an account; the result is the new balance."""

    account_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    amount: PositiveMoney

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        return [ResourceIdentifier("Account", self.account_id)]


class TransferFundsCommand(Command[str]):
    """Move ``amount`` between two accounts; the result is the transfer id."""

    from_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    to_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    amount: PositiveMoney

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        """Lock both accounts."""
        return [
            ResourceIdentifier("Account", self.from_account),
            ResourceIdentifier("Account", self.to_account),
        ]


class PayInvoiceCommand(Command[str | None]):
    """Issue the invoice of an order and pay it from the customer's account.

    The result is the invoice id; a refused payment is a FAILED invoice, not an error. An
    order ordering cancelled already is not charged at all: no invoice, the result is None.
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    amount: PositiveMoney
    merchant_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        # The invoice lock makes two deliveries of one order pay once; the account locks are
        # the ones the nested transfer takes, held from the start so it re-enters them.
        return [
            ResourceIdentifier("Invoice", self.order_id),
            ResourceIdentifier("Account", self.customer_id),
            ResourceIdentifier("Account", self.merchant_account),
        ]


class RecordOrderCancelledCommand(Command[bool]):
    """Ordering cancelled ``order_id``: if billing has not charged it, it never will.

    The result says whether the cancellation was recorded (False: an invoice exists already -
    a PAID one is refunded when ordering asks, a FAILED one charged nothing).
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    reason: str = Field(min_length=1, max_length=1000)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        # The lock `PayInvoiceCommand` takes first: paying and cancelling one order take turns.
        return [ResourceIdentifier("Invoice", self.order_id)]


class RefundPaymentCommand(Command[str | None]):
    """Give the payment of a cancelled order back: a transfer from the merchant, once.

    The result is the refund's transfer id (None when the invoice was not PAID: refunded
    already, or never charged).
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    merchant_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        # Locked like the payment: the invoice, then both accounts the nested transfer takes.
        return [
            ResourceIdentifier("Invoice", self.order_id),
            ResourceIdentifier("Account", self.customer_id),
            ResourceIdentifier("Account", self.merchant_account),
        ]
