"""Billing's commands. Two to read closely:

* `TransferFundsCommand` declares the account money *leaves* in ``get_critical_resources()``:
  the locking middleware holds it until the transaction ends, so two debits never both spend
  the same balance. The account money *enters* is not declared: a credit cannot overdraw it,
  so it needs no lock held across the command - its handler reads it with a row lock of the
  transaction itself (`AccountRepository.get_for_update`), released by the commit. That keeps
  every payment from queueing on the one merchant account.
* `PayInvoiceCommand` declares the same debited account, and nothing else. Its handler
  sends `TransferFundsCommand` *nested*, which re-enters the lock its root already holds
  (same root session) instead of waiting for itself.

`RefundPaymentCommand` is the payment run backwards - a nested transfer from the merchant, so
it locks the merchant's account, the one money now leaves - and `RecordOrderCancelledCommand`
takes the customer's lock, as a payment does, so paying and cancelling one order take turns.
Scenarios: features/billing/*.feature, features/cross_context/payment_deadline.feature.
Guide: docs/patterns/transfer-funds-locking.md.
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


class DepositCommand(Command[str]):
    """Add ``amount`` to an account; the result is the deposit's id (``GetDepositQuery``).

    No critical resource: a deposit only credits, and its handler takes the account's row
    lock inside the transaction, like the credit side of a transfer.
    """

    account_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    amount: PositiveMoney


class TransferFundsCommand(Command[str]):
    """Move ``amount`` between two accounts; the result is the transfer id."""

    from_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    to_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    amount: PositiveMoney

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        """Lock the account money leaves; the credited one is row-locked by the handler."""
        return [ResourceIdentifier("Account", self.from_account)]


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
        # One lock: the customer's account, which the nested transfer debits - held from the
        # start so the transfer re-enters it. It also makes two deliveries of one order pay
        # once: the second waits for the first's commit, then finds its invoice (and the
        # unique order_id refuses a second invoice whatever happens). The merchant is only
        # credited: locking it would queue every payment on one account.
        return [ResourceIdentifier("Account", self.customer_id)]


class RecordOrderCancelledCommand(Command[bool]):
    """Ordering cancelled ``order_id``: if billing has not charged it, it never will.

    The result says whether the cancellation was recorded (False: an invoice exists already -
    a PAID one is refunded when ordering asks, a FAILED one charged nothing).
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    reason: str = Field(min_length=1, max_length=1000)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        # The lock `PayInvoiceCommand` takes: paying and cancelling one order take turns.
        return [ResourceIdentifier("Account", self.customer_id)]


class RefundPaymentCommand(Command[str | None]):
    """Give the payment of a cancelled order back: a transfer from the merchant, once.

    The result is the refund's transfer id (None when the invoice was not PAID: refunded
    already, or never charged).
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    customer_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)
    merchant_account: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER)

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        # The account money leaves is the merchant's now, held from the start so the nested
        # transfer re-enters it; two refunds of one order take turns on it, and the second
        # finds the invoice REFUNDED already.
        return [ResourceIdentifier("Account", self.merchant_account)]
