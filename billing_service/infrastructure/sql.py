"""`BillingSqlUnitOfWork`: billing's repositories over one SQLAlchemy session.

Every repository gets the *same* session, so an invoice, both balances of its transfer and the
outbox row of `PaymentCaptured` are written in one transaction. The optimistic version check
is the core's `SqlAlchemyRepository.save`. The account's `get_for_update` is the lock of the
transaction itself: ``SELECT ... FOR UPDATE`` on PostgreSQL (one statement, released by the
commit); on SQLite the clause is left out, as the write lock taken at ``BEGIN IMMEDIATE``
already keeps every other writer out. Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.invoice import Invoice, InvoiceStatus
from billing_service.infrastructure.tables import accounts, cancelled_orders, invoices
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.primitives.exceptions import NotFoundError


class SqlAccountRepository(SqlAlchemyRepository[Account]):
    table = accounts

    @property
    def kind(self) -> str:
        return "Account"

    def _to_row(self, account: Account) -> dict[str, Any]:
        return {"balance": account.balance}

    def _from_row(self, row: RowMapping) -> Account:
        return Account(row["id"], row["balance"])

    async def get_for_update(self, account_id: str) -> Account:
        # --8<-- [start:for_update]
        result = await self._session.execute(
            select(accounts).where(accounts.c.id == account_id).with_for_update()
        )
        # --8<-- [end:for_update]
        row = result.mappings().one_or_none()
        if row is None:
            raise NotFoundError(self.kind, account_id)
        return self._load(row)


class SqlInvoiceRepository(SqlAlchemyRepository[Invoice]):
    table = invoices

    @property
    def kind(self) -> str:
        return "Invoice"

    def _to_row(self, invoice: Invoice) -> dict[str, Any]:
        return {
            "order_id": invoice.order_id,
            "customer_id": invoice.customer_id,
            "amount": invoice.amount,
            "status": invoice.status.value,
            "payment_id": invoice.payment_id,
            "failure_reason": invoice.failure_reason,
            "refund_id": invoice.refund_id,
        }

    def _from_row(self, row: RowMapping) -> Invoice:
        return Invoice(
            row["id"],
            row["order_id"],
            row["customer_id"],
            row["amount"],
            InvoiceStatus(row["status"]),
            payment_id=row["payment_id"],
            failure_reason=row["failure_reason"],
            refund_id=row["refund_id"],
        )

    async def find_by_order(self, order_id: str) -> Invoice | None:
        found = await self.list(order_id=order_id)
        return found[0] if found else None

    async def list(
        self, *where: Any, order_id: str | None = None, customer_id: str | None = None
    ) -> builtins.list[Invoice]:
        conditions = list(where)
        if order_id is not None:
            conditions.append(invoices.c.order_id == order_id)
        if customer_id is not None:
            conditions.append(invoices.c.customer_id == customer_id)
        return await super().list(*conditions)


class SqlCancelledOrderRepository(SqlAlchemyRepository[CancelledOrder]):
    table = cancelled_orders

    @property
    def kind(self) -> str:
        return "CancelledOrder"

    def _to_row(self, cancelled: CancelledOrder) -> dict[str, Any]:
        return {"customer_id": cancelled.customer_id, "reason": cancelled.reason}

    def _from_row(self, row: RowMapping) -> CancelledOrder:
        return CancelledOrder(row["id"], row["customer_id"], row["reason"])


class BillingSqlUnitOfWork(SqlAlchemyUnitOfWork):
    """Accounts, invoices and cancelled orders in one database transaction."""

    @property
    def accounts(self) -> SqlAccountRepository:
        return SqlAccountRepository(self.session)

    @property
    def invoices(self) -> SqlInvoiceRepository:
        return SqlInvoiceRepository(self.session)

    @property
    def cancelled_orders(self) -> SqlCancelledOrderRepository:
        return SqlCancelledOrderRepository(self.session)
