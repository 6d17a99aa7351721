"""Billing's queries: reads that return DTOs, never aggregates.

Guide: docs/components/queries.md.
"""

from __future__ import annotations

from billing_service.application.dtos import AccountDTO, DepositDTO, InvoiceDTO, TransferDTO
from cqrs_ddd_core.cqrs.query import Query


class GetAccountQuery(Query[AccountDTO]):
    account_id: str


class ListInvoicesQuery(Query[list[InvoiceDTO]]):
    """Invoices, optionally of one order."""

    order_id: str | None = None


class GetDepositQuery(Query[DepositDTO]):
    """A deposit into ``account_id``; another account's deposit is not found there."""

    account_id: str
    deposit_id: str


class GetTransferQuery(Query[TransferDTO]):
    transfer_id: str
