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

Scenarios: features/billing/*.feature. Guide: docs/patterns/transfer-funds-locking.md.
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
    """Add ``amount`` to an account; the result is the new balance.

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


class PayInvoiceCommand(Command[str]):
    """Issue the invoice of an order and pay it from the customer's account.

    The result is the invoice id; a refused payment is a FAILED invoice, not an error.
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
