"""`BillingInMemoryUnitOfWork`: billing's unit of work over the core's in-memory store.

Writes become visible only on commit, and a nested command's savepoint really undoes its
writes - which is what makes "a failed transfer leaves both balances untouched" testable
without a database. It exposes what `BillingUnitOfWork` (application/ports.py) promises.

`InMemoryAccountRepository.get_for_update` plays a database's row lock: one `asyncio.Lock`
per account of the store, taken once per unit of work and released when it closes.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from billing_service.application.ports import DepositRecord, TransferRecord
from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.invoice import Invoice
from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.primitives.exceptions import NotFoundError

_ROW_LOCKS: WeakKeyDictionary[InMemoryStore, dict[str, asyncio.Lock]] = WeakKeyDictionary()


class InMemoryAccountRepository(InMemoryRepository[Account]):
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        super().__init__(uow, "Account")
        self._uow = uow
        self._held: set[str] = set()  # this unit of work's row locks: taken once, like a row's

    async def get_for_update(self, account_id: str) -> Account:
        if account_id not in self._held:
            lock = _ROW_LOCKS.setdefault(self._uow.store, {}).setdefault(account_id, asyncio.Lock())
            await lock.acquire()
            self._held.add(account_id)
            self._uow.on_close(lock.release)
        return await self.get(account_id)


class InMemoryInvoiceRepository(InMemoryRepository[Invoice]):
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        super().__init__(uow, "Invoice")

    async def find_by_order(self, order_id: str) -> Invoice | None:
        matching = await self.list(order_id=order_id)
        return matching[0] if matching else None

    async def list(self, *, order_id: str | None = None) -> list[Invoice]:
        invoices = await super().list()
        return [i for i in invoices if order_id is None or i.order_id == order_id]


class InMemoryLedgerRepository:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    async def add_deposit(self, deposit: DepositRecord) -> None:
        self._uow.insert("Deposit", deposit.deposit_id, deposit)

    async def add_transfer(self, transfer: TransferRecord) -> None:
        self._uow.insert("Transfer", transfer.transfer_id, transfer)

    async def get_deposit(self, deposit_id: str) -> DepositRecord:
        found = self._uow.get("Deposit", deposit_id)
        if found is None:
            raise NotFoundError("Deposit", deposit_id)
        deposit: DepositRecord = found[0]
        return deposit

    async def get_transfer(self, transfer_id: str) -> TransferRecord:
        found = self._uow.get("Transfer", transfer_id)
        if found is None:
            raise NotFoundError("Transfer", transfer_id)
        transfer: TransferRecord = found[0]
        return transfer


class BillingInMemoryUnitOfWork(InMemoryUnitOfWork):
    """Accounts, invoices, cancelled orders and the ledger, committed together."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__(store)
        self.accounts = InMemoryAccountRepository(self)
        self.invoices = InMemoryInvoiceRepository(self)
        self.cancelled_orders = InMemoryRepository[CancelledOrder](self, "CancelledOrder")
        self.ledger = InMemoryLedgerRepository(self)
