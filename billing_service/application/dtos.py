"""What billing's queries return: plain data, money as `Decimal` (decimal strings in JSON)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from billing_service.domain.account import Account
from billing_service.domain.invoice import Invoice


class AccountDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    balance: Decimal
    version: int

    @classmethod
    def from_aggregate(cls, account: Account) -> AccountDTO:
        return cls(account_id=account.id, balance=account.balance, version=account.version)


class InvoiceDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    order_id: str
    customer_id: str
    amount: Decimal
    status: str
    failure_reason: str | None = None

    @classmethod
    def from_aggregate(cls, invoice: Invoice) -> InvoiceDTO:
        return cls(
            invoice_id=invoice.id,
            order_id=invoice.order_id,
            customer_id=invoice.customer_id,
            amount=invoice.amount,
            status=invoice.status.value,
            failure_reason=invoice.failure_reason,
        )
