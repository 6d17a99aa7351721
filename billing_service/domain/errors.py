"""Billing's business refusals, as `DomainError` subclasses a caller can tell apart.

`InsufficientFundsError` is the one to notice: `PayInvoiceCommand`'s handler catches it from
the nested transfer and turns it into a failed invoice instead of an error.
"""

from __future__ import annotations

from decimal import Decimal

from cqrs_ddd_core.primitives.exceptions import DomainError


class InsufficientFundsError(DomainError):
    """An account cannot pay ``amount`` out of ``balance``."""

    def __init__(self, account_id: str, balance: Decimal, amount: Decimal) -> None:
        self.account_id = account_id
        self.balance = balance
        self.amount = amount
        super().__init__(
            f"Insufficient funds in account {account_id!r}: balance {balance}, "
            f"needs {amount}; deposit first"
        )


class AccountAlreadyExistsError(DomainError):
    """An account is opened under an id that has one already."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        super().__init__(f"Account {account_id!r} already exists; deposit into it instead")
