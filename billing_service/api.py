"""Billing's HTTP API (Litestar): requests in, commands and queries to the mediator, DTOs out.

The one thing to notice: the API holds no business logic. It validates the *shape* of the
input (a 400 naming the field), sends one command or query, and maps the application's errors
to status codes: unknown id -> 404, insufficient funds or another refusal -> 409 with the
reason, an account locked for too long -> 503. Money arrives as a decimal string or a number
and leaves as a decimal string. OpenAPI: ``/schema``. Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from litestar import Litestar, get, post
from litestar.di import NamedDependency, Provide
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
from billing_service.application.queries import GetAccountQuery, ListInvoicesQuery
from cqrs_ddd_core.adapters.litestar.errors import EXCEPTION_HANDLERS
from cqrs_ddd_core.adapters.litestar.routes import HealthCheck, health, notifications
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.primitives.text import IDENTIFIER, STORABLE_TEXT

Hook = Callable[[], Awaitable[None]]
AccountId = Annotated[str, Field(min_length=1, max_length=64, pattern=IDENTIFIER)]
AccountIdPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=STORABLE_TEXT)]


class OpenAccountRequest(BaseModel):
    account_id: AccountId
    balance: Money


class DepositRequest(BaseModel):
    amount: PositiveMoney


class TransferRequest(BaseModel):
    from_account: AccountId
    to_account: AccountId
    amount: PositiveMoney


async def _account(bus: ICommandBus, account_id: str) -> dict[str, Any]:
    account: AccountDTO = (await bus.send(GetAccountQuery(account_id=account_id))).result
    return account.model_dump(mode="json")


@post("/accounts", summary="Open an account")
async def open_account(
    data: JSONBody[OpenAccountRequest], bus: NamedDependency[ICommandBus]
) -> dict[str, Any]:
    await bus.send(OpenAccountCommand(account_id=data.account_id, balance=data.balance))
    return await _account(bus, data.account_id)


@get("/accounts/{account_id:str}", summary="An account's balance and version")
async def get_account(
    account_id: AccountIdPath, bus: NamedDependency[ICommandBus]
) -> dict[str, Any]:
    return await _account(bus, account_id)


@post("/accounts/{account_id:str}/deposits", status_code=200, summary="Deposit into an account")
async def deposit(
    account_id: AccountIdPath, data: JSONBody[DepositRequest], bus: NamedDependency[ICommandBus]
) -> dict[str, Any]:
    await bus.send(DepositCommand(account_id=account_id, amount=data.amount))
    return await _account(bus, account_id)


@post("/transfers", summary="Move money between two accounts (both locked)")
async def transfer(
    data: JSONBody[TransferRequest], bus: NamedDependency[ICommandBus]
) -> dict[str, Any]:
    command = TransferFundsCommand(
        from_account=data.from_account, to_account=data.to_account, amount=data.amount
    )
    transfer_id = (await bus.send(command)).result
    return {
        "transfer_id": transfer_id,
        "from_account": data.from_account,
        "to_account": data.to_account,
        "amount": f"{command.amount:.2f}",  # one spelling out, whatever came in
    }


@get("/invoices", summary="Invoices, optionally of one order")
async def list_invoices(
    bus: NamedDependency[ICommandBus],
    order_id: Annotated[str | None, QueryParameter(max_length=64, pattern=STORABLE_TEXT)] = None,
) -> list[dict[str, Any]]:
    invoices = (await bus.send(ListInvoicesQuery(order_id=order_id))).result
    return [invoice.model_dump(mode="json") for invoice in invoices]


def create_app(
    bus: ICommandBus,
    *,
    health_check: HealthCheck,
    notification_feed: Sequence[dict[str, Any]] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> Litestar:
    """The Litestar app over ``bus`` (the mediator); hooks start and stop the service."""

    def provide(value: Any) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    return Litestar(
        route_handlers=[
            open_account,
            get_account,
            deposit,
            transfer,
            list_invoices,
            health,
            notifications,
        ],
        dependencies={
            "bus": provide(bus),
            "check_health": provide(health_check),
            "notification_feed": provide(notification_feed),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
    )
