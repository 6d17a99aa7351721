"""Billing's query handlers: they read and return DTOs. Guide: docs/components/queries.md."""

from __future__ import annotations

from billing_service.application.dtos import AccountDTO, DepositDTO, InvoiceDTO, TransferDTO
from billing_service.application.ports import current_uow
from billing_service.application.queries import (
    GetAccountQuery,
    GetDepositQuery,
    GetTransferQuery,
    ListInvoicesQuery,
)
from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.response import QueryResponse
from cqrs_ddd_core.primitives.exceptions import NotFoundError


class GetAccountHandler(QueryHandler[AccountDTO]):
    async def handle(self, query: GetAccountQuery) -> QueryResponse[AccountDTO]:
        account = await current_uow().accounts.get(query.account_id)
        return QueryResponse(result=AccountDTO.from_aggregate(account))


class ListInvoicesHandler(QueryHandler[list[InvoiceDTO]]):
    async def handle(self, query: ListInvoicesQuery) -> QueryResponse[list[InvoiceDTO]]:
        invoices = await current_uow().invoices.list(order_id=query.order_id)
        return QueryResponse(result=[InvoiceDTO.from_aggregate(i) for i in invoices])


class GetDepositHandler(QueryHandler[DepositDTO]):
    async def handle(self, query: GetDepositQuery) -> QueryResponse[DepositDTO]:
        deposit = await current_uow().ledger.get_deposit(query.deposit_id)
        if deposit.account_id != query.account_id:
            raise NotFoundError("Deposit", query.deposit_id)  # not a deposit of this account
        return QueryResponse(result=DepositDTO.from_record(deposit))


class GetTransferHandler(QueryHandler[TransferDTO]):
    async def handle(self, query: GetTransferQuery) -> QueryResponse[TransferDTO]:
        transfer = await current_uow().ledger.get_transfer(query.transfer_id)
        return QueryResponse(result=TransferDTO.from_record(transfer))
