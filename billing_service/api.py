"""Billing's HTTP API (Litestar): requests in, commands and queries to the mediator, DTOs out.

The one thing to notice: the API holds no business logic. It validates the *shape* of the
input (a 400 naming the field), sends one command (through ``commands``, an `ICommandBus`) or
query (through ``queries``, an `IQueryBus`), and the core maps the application's errors to
status codes: unknown id -> 404, insufficient funds or another refusal -> 409 with the
reason, an account locked for too long -> 503. Money arrives as a decimal string or a number
and leaves as a decimal string. A deposit and a transfer answer with their id and can be read
back by it, and every ``POST`` takes an ``Idempotency-Key`` (the core's edge does that, not
these routes). `ENDPOINTS` is what the service host serves, next to ``/health`` and
``/notifications``. OpenAPI: ``/schema``.
Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import BaseModel, Field

from billing_service.application.commands import (
    DepositCommand,
    Money,
    OpenAccountCommand,
    PositiveMoney,
    TransferFundsCommand,
)
from billing_service.application.dtos import AccountDTO
from billing_service.application.queries import (
    GetAccountQuery,
    GetDepositQuery,
    GetTransferQuery,
    ListInvoicesQuery,
)
from cqrs_ddd_core.adapters.litestar.app import Commands, Queries
from cqrs_ddd_core.ports.bus import IQueryBus
from cqrs_ddd_core.primitives.text import IDENTIFIER, STORABLE_TEXT

AccountId = Annotated[str, Field(min_length=1, max_length=64, pattern=IDENTIFIER)]
AccountIdPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=STORABLE_TEXT)]
IdPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=STORABLE_TEXT)]


class OpenAccountRequest(BaseModel):
    account_id: AccountId
    balance: Money


class DepositRequest(BaseModel):
    amount: PositiveMoney


class TransferRequest(BaseModel):
    from_account: AccountId
    to_account: AccountId
    amount: PositiveMoney


async def _account(queries: IQueryBus, account_id: str) -> dict[str, Any]:
    account: AccountDTO = (await queries.send(GetAccountQuery(account_id=account_id))).result
    return account.model_dump(mode="json")


@post("/accounts", summary="Open an account")
async def open_account(
    data: JSONBody[OpenAccountRequest], commands: Commands, queries: Queries
) -> dict[str, Any]:
    await commands.send(OpenAccountCommand(account_id=data.account_id, balance=data.balance))
    return await _account(queries, data.account_id)


@get("/accounts/{account_id:str}", summary="An account's balance and version")
async def get_account(account_id: AccountIdPath, queries: Queries) -> dict[str, Any]:
    return await _account(queries, account_id)


@post("/accounts/{account_id:str}/deposits", status_code=200, summary="Deposit into an account")
async def deposit(
    account_id: AccountIdPath, data: JSONBody[DepositRequest], commands: Commands, queries: Queries
) -> dict[str, Any]:
    """The account after the deposit, with the deposit's id and amount."""
    command = DepositCommand(account_id=account_id, amount=data.amount)
    deposit_id = (await commands.send(command)).result
    return {
        **await _account(queries, account_id),
        "deposit_id": deposit_id,
        "amount": f"{command.amount:.2f}",
    }


@get(
    "/accounts/{account_id:str}/deposits/{deposit_id:str}",
    summary="One deposit into an account, by the id its POST answered",
)
async def get_deposit(account_id: AccountIdPath, deposit_id: IdPath, queries: Queries) -> Any:
    query = GetDepositQuery(account_id=account_id, deposit_id=deposit_id)
    return (await queries.send(query)).result.model_dump(mode="json")


@post("/transfers", summary="Move money between two accounts (the source locked)")
async def transfer(data: JSONBody[TransferRequest], commands: Commands) -> dict[str, Any]:
    command = TransferFundsCommand(
        from_account=data.from_account, to_account=data.to_account, amount=data.amount
    )
    transfer_id = (await commands.send(command)).result
    return {
        "transfer_id": transfer_id,
        "from_account": data.from_account,
        "to_account": data.to_account,
        "amount": f"{command.amount:.2f}",  # one spelling out, whatever came in
    }


@get("/transfers/{transfer_id:str}", summary="One transfer, by the id its POST answered")
async def get_transfer(transfer_id: IdPath, queries: Queries) -> Any:
    query = GetTransferQuery(transfer_id=transfer_id)
    return (await queries.send(query)).result.model_dump(mode="json")


@get("/invoices", summary="Invoices, optionally of one order")
async def list_invoices(
    queries: Queries,
    order_id: Annotated[str | None, QueryParameter(max_length=64, pattern=STORABLE_TEXT)] = None,
) -> list[dict[str, Any]]:
    invoices = (await queries.send(ListInvoicesQuery(order_id=order_id))).result
    return [invoice.model_dump(mode="json") for invoice in invoices]


ENDPOINTS = [
    open_account,
    get_account,
    deposit,
    get_deposit,
    transfer,
    get_transfer,
    list_invoices,
]
