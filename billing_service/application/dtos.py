"""What billing's queries return: plain data, money as `Decimal` (decimal strings in JSON)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from billing_service.application.ports import DepositRecord, TransferRecord
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


class DepositDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    deposit_id: str
    account_id: str
    amount: Decimal
    balance: Decimal
    """The account's balance right after this deposit."""
    deposited_at: datetime

    @classmethod
    def from_record(cls, deposit: DepositRecord) -> DepositDTO:
        return cls(
            deposit_id=deposit.deposit_id,
            account_id=deposit.account_id,
            amount=deposit.amount,
            balance=deposit.balance,
            deposited_at=deposit.deposited_at,
        )


class TransferDTO(BaseModel):
    model_config = ConfigDict(frozen=True)

    transfer_id: str
    from_account: str
    to_account: str
    amount: Decimal
    transferred_at: datetime

    @classmethod
    def from_record(cls, transfer: TransferRecord) -> TransferDTO:
        return cls(
            transfer_id=transfer.transfer_id,
            from_account=transfer.from_account,
            to_account=transfer.to_account,
            amount=transfer.amount,
            transferred_at=transfer.transferred_at,
        )
