"""The storage billing's handlers need, as interfaces (ports).

Handlers depend on these protocols; `infrastructure/` provides an in-memory and a SQL
implementation of each, and `bootstrap.py` picks one. Guide: docs/components/unit-of-work.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.invoice import Invoice
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def get(self, account_id: str) -> Account:
        """The account; raises `NotFoundError` naming the id."""
        ...

    async def find(self, account_id: str) -> Account | None: ...

    async def get_for_update(self, account_id: str) -> Account:
        """The account, its row locked until this unit of work ends (`NotFoundError` if none).

        The lock of the transaction itself: a writer that only credits the account takes it
        here, for the rest of its transaction, instead of a lock held across the command.
        """
        ...

    async def save(self, account: Account) -> None: ...


class InvoiceRepository(Protocol):
    async def add(self, invoice: Invoice) -> None: ...

    async def find_by_order(self, order_id: str) -> Invoice | None: ...

    async def save(self, invoice: Invoice) -> None: ...

    async def list(self, *, order_id: str | None) -> list[Invoice]: ...


class CancelledOrderRepository(Protocol):
    """Orders ordering cancelled before billing charged them, by order id."""

    async def add(self, cancelled: CancelledOrder) -> None: ...

    async def find(self, order_id: str) -> CancelledOrder | None: ...


@dataclass(frozen=True)
class DepositRecord:
    """A deposit as the ledger keeps it (`ledger.py` writes it, `GetDepositQuery` reads it)."""

    deposit_id: str
    account_id: str
    amount: Decimal
    balance: Decimal
    """The account's balance right after the deposit."""
    deposited_at: datetime


@dataclass(frozen=True)
class TransferRecord:
    """A transfer as the ledger keeps it - a payment or a refund is one too."""

    transfer_id: str
    from_account: str
    to_account: str
    amount: Decimal
    transferred_at: datetime


class LedgerRepository(Protocol):
    """Deposits and transfers by id: what a client reads back after a timeout."""

    async def add_deposit(self, deposit: DepositRecord) -> None: ...

    async def add_transfer(self, transfer: TransferRecord) -> None: ...

    async def get_deposit(self, deposit_id: str) -> DepositRecord:
        """The deposit; raises `NotFoundError` naming the id."""
        ...

    async def get_transfer(self, transfer_id: str) -> TransferRecord:
        """The transfer; raises `NotFoundError` naming the id."""
        ...


class BillingUnitOfWork(Protocol):
    accounts: AccountRepository
    invoices: InvoiceRepository
    cancelled_orders: CancelledOrderRepository
    ledger: LedgerRepository


def current_uow() -> BillingUnitOfWork:
    """The unit of work of the message being handled; an error outside the mediator."""
    uow: BillingUnitOfWork | None = get_current_uow()
    if uow is None:
        raise UnitOfWorkError("No unit of work: billing handlers run only through Mediator.send")
    return uow
