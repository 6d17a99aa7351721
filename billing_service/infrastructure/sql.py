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

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.application.ports import DepositRecord, TransferRecord
from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.invoice import Invoice, InvoiceStatus
from billing_service.infrastructure.tables import (
    accounts,
    cancelled_orders,
    deposits,
    invoices,
    transfers,
)
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.primitives.exceptions import NotFoundError

# A payment's statements, built once and bound per call (see `RepositoryStatements`).
# --8<-- [start:for_update_statement]
ACCOUNT_FOR_UPDATE = select(accounts).where(accounts.c.id == bindparam("key")).with_for_update()
# --8<-- [end:for_update_statement]
INVOICE_OF_ORDER = (
    select(invoices).where(invoices.c.order_id == bindparam("order_id")).order_by(invoices.c.id)
)
INSERT_TRANSFER = insert(transfers)


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
        result = await self._session.execute(ACCOUNT_FOR_UPDATE, {"key": account_id})
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
        result = await self._session.execute(INVOICE_OF_ORDER, {"order_id": order_id})
        row = result.mappings().first()
        return None if row is None else self._load(row)

    async def list(
        self,
        *where: Any,
        order_id: str | None = None,
        customer_id: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Invoice]:
        query = select(invoices).where(*where).order_by(invoices.c.id).limit(limit)
        if order_id is not None:
            query = query.where(invoices.c.order_id == order_id)
        if customer_id is not None:
            query = query.where(invoices.c.customer_id == customer_id)
        if after is not None:
            query = query.where(invoices.c.id > after)  # the keyset: ids after the last page's
        result = await self._session.execute(query)
        return [self._load(row) for row in result.mappings()]


class SqlCancelledOrderRepository(SqlAlchemyRepository[CancelledOrder]):
    table = cancelled_orders

    @property
    def kind(self) -> str:
        return "CancelledOrder"

    def _to_row(self, cancelled: CancelledOrder) -> dict[str, Any]:
        return {"customer_id": cancelled.customer_id, "reason": cancelled.reason}

    def _from_row(self, row: RowMapping) -> CancelledOrder:
        return CancelledOrder(row["id"], row["customer_id"], row["reason"])


class SqlLedgerRepository:
    """Deposits and transfers: rows written once, by the ledger projection."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_deposit(self, deposit: DepositRecord) -> None:
        await self._session.execute(
            insert(deposits).values(
                id=deposit.deposit_id,
                account_id=deposit.account_id,
                amount=deposit.amount,
                balance=deposit.balance,
                deposited_at=deposit.deposited_at,
            )
        )

    async def add_transfer(self, transfer: TransferRecord) -> None:
        await self._session.execute(
            INSERT_TRANSFER,
            {
                "id": transfer.transfer_id,
                "from_account": transfer.from_account,
                "to_account": transfer.to_account,
                "amount": transfer.amount,
                "transferred_at": transfer.transferred_at,
            },
        )

    async def get_deposit(self, deposit_id: str) -> DepositRecord:
        result = await self._session.execute(select(deposits).where(deposits.c.id == deposit_id))
        row = result.mappings().one_or_none()
        if row is None:
            raise NotFoundError("Deposit", deposit_id)
        return DepositRecord(
            deposit_id=row["id"],
            account_id=row["account_id"],
            amount=row["amount"],
            balance=row["balance"],
            deposited_at=row["deposited_at"],
        )

    async def get_transfer(self, transfer_id: str) -> TransferRecord:
        result = await self._session.execute(select(transfers).where(transfers.c.id == transfer_id))
        row = result.mappings().one_or_none()
        if row is None:
            raise NotFoundError("Transfer", transfer_id)
        return TransferRecord(
            transfer_id=row["id"],
            from_account=row["from_account"],
            to_account=row["to_account"],
            amount=row["amount"],
            transferred_at=row["transferred_at"],
        )


class BillingSqlUnitOfWork(SqlAlchemyUnitOfWork):
    """Accounts, invoices, cancelled orders and the ledger in one database transaction."""

    @property
    def accounts(self) -> SqlAccountRepository:
        return SqlAccountRepository(self.session)

    @property
    def invoices(self) -> SqlInvoiceRepository:
        return SqlInvoiceRepository(self.session)

    @property
    def cancelled_orders(self) -> SqlCancelledOrderRepository:
        return SqlCancelledOrderRepository(self.session)

    @property
    def ledger(self) -> SqlLedgerRepository:
        return SqlLedgerRepository(self.session)
