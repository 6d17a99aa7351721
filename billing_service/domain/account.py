"""`Account`: the aggregate that owns a balance, which never goes below zero.

Deposits and withdrawals check their rule before changing anything: a refused withdrawal
raises `InsufficientFundsError` and leaves the balance as it was. Moving money between two
accounts is `transfer_funds` (domain/transfer.py), since it is a rule about two aggregates.
Scenarios: features/billing/*.feature. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from decimal import Decimal

from billing_service.domain.errors import InsufficientFundsError
from billing_service.domain.events import AccountOpened, FundsDeposited
from billing_service.domain.money import to_money
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.ids import new_id


class Account(AggregateRoot):
    """A customer's (or the merchant's) account."""

    def __init__(self, id: str, balance: Decimal, *, version: int = 0) -> None:
        super().__init__(id, version)
        self.balance = balance

    @classmethod
    def open(cls, account_id: str, balance: Decimal = Decimal("0")) -> Account:
        """A new account with an opening ``balance``; records `AccountOpened`."""
        if not account_id.strip():
            raise DomainError("An account needs an account_id")
        opening = to_money(balance, field="balance")
        if opening < 0:
            raise DomainError(f"Opening balance of {account_id!r} cannot be negative")
        account = cls(account_id, opening)
        account.add_event(
            AccountOpened(aggregate_id=account_id, account_id=account_id, balance=opening)
        )
        return account

    def deposit(self, amount: Decimal) -> str:
        """Add a positive ``amount``; records `FundsDeposited`; returns the deposit's id."""
        amount = _positive(amount)
        self.balance += amount
        deposit_id = new_id()
        self.add_event(
            FundsDeposited(
                aggregate_id=self.id,
                deposit_id=deposit_id,
                account_id=self.id,
                amount=amount,
                balance=self.balance,
            )
        )
        return deposit_id

    def credit(self, amount: Decimal) -> None:
        """Receive ``amount`` as part of a transfer (the transfer records the event)."""
        self.balance += _positive(amount)

    def debit(self, amount: Decimal) -> None:
        """Pay ``amount`` out as part of a transfer; refuses to overdraw."""
        amount = _positive(amount)
        if amount > self.balance:
            raise InsufficientFundsError(self.id, self.balance, amount)
        self.balance -= amount


def _positive(amount: Decimal) -> Decimal:
    value = to_money(amount)
    if value <= 0:
        raise DomainError(f"amount must be positive, got {value}")
    return value
