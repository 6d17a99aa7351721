"""`BillingInMemoryUnitOfWork`: billing's unit of work over the core's in-memory store.

Writes become visible only on commit, and a nested command's savepoint really undoes its
writes - which is what makes "a failed transfer leaves both balances untouched" testable
without a database. It exposes what `BillingUnitOfWork` (application/ports.py) promises.
"""

from __future__ import annotations

from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.invoice import Invoice
from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)


class InMemoryInvoiceRepository(InMemoryRepository[Invoice]):
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        super().__init__(uow, "Invoice")

    async def find_by_order(self, order_id: str) -> Invoice | None:
        matching = await self.list(order_id=order_id)
        return matching[0] if matching else None

    async def list(self, *, order_id: str | None = None) -> list[Invoice]:
        invoices = await super().list()
        return [i for i in invoices if order_id is None or i.order_id == order_id]


class BillingInMemoryUnitOfWork(InMemoryUnitOfWork):
    """Accounts, invoices and cancelled orders, committed together."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__(store)
        self.accounts = InMemoryRepository[Account](self, "Account")
        self.invoices = InMemoryInvoiceRepository(self)
        self.cancelled_orders = InMemoryRepository[CancelledOrder](self, "CancelledOrder")
