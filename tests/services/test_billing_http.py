"""Billing's HTTP API through Litestar's `AsyncTestClient` (which runs the service's lifespan).

The service is assembled by `bootstrap.build` on a SQLite file and an in-process broker, so a
request goes the whole way: validation, locks, mediator, unit of work, outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from billing_service import bootstrap
from billing_service.application.commands import PayInvoiceCommand
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from tests.tokens import auth_headers

Client = AsyncTestClient[Any]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ServiceHost]:
    broker = InMemoryBroker(mandatory=False)
    settings = bootstrap.BillingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db")
    yield bootstrap.build(settings, broker=broker)
    await broker.stop()


@pytest.fixture
async def client(service: ServiceHost) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=service.create_app()) as client:
        yield client


async def open_account(client: Client, account_id: str, balance: Any) -> None:
    response = await client.post("/accounts", json={"account_id": account_id, "balance": balance})
    assert response.status_code == 201, response.text


async def balance_of(client: Client, account_id: str) -> str:
    balance: str = (await client.get(f"/accounts/{account_id}")).json()["balance"]
    return balance


async def test_an_account_opens_with_201_and_reads_back_with_its_version(client: Client) -> None:
    response = await client.post("/accounts", json={"account_id": "alice", "balance": "100"})

    assert response.status_code == 201
    assert response.json() == {"account_id": "alice", "balance": "100.00", "version": 1}
    assert (await client.get("/accounts/alice")).json() == response.json()


async def test_the_merchant_account_exists_from_start_up(client: Client) -> None:
    response = await client.get("/accounts/merchant")

    assert response.status_code == 200
    assert response.json()["balance"] == "0.00"


async def test_opening_an_existing_account_is_409(client: Client) -> None:
    await open_account(client, "alice", 1)

    response = await client.post("/accounts", json={"account_id": "alice", "balance": "5"})

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


async def test_an_opening_balance_of_minus_zero_is_zero(client: Client) -> None:
    response = await client.post("/accounts", json={"account_id": "zero", "balance": "-0"})

    assert response.status_code == 201, response.text
    assert await balance_of(client, "zero") == "0.00"


async def test_an_unknown_account_is_404(client: Client) -> None:
    assert (await client.get("/accounts/ghost")).status_code == 404
    response = await client.post("/accounts/ghost/deposits", json={"amount": "1"})
    assert response.status_code == 404


async def test_a_deposit_answers_the_new_balance_and_version(client: Client) -> None:
    await open_account(client, "alice", "0.10")

    response = await client.post("/accounts/alice/deposits", json={"amount": 0.2})

    assert response.status_code == 200
    deposit_id = response.json().pop("deposit_id")
    assert response.json() == {
        "account_id": "alice",
        "balance": "0.30",
        "version": 2,
        "deposit_id": deposit_id,
        "amount": "0.20",
    }


async def test_a_deposit_and_a_transfer_read_back_by_the_ids_they_answered(
    client: Client,
) -> None:
    await open_account(client, "alice", "10")
    await open_account(client, "bob", "0")
    deposit_id = (
        await client.post("/accounts/alice/deposits", json={"amount": "5"}, headers=auth_headers())
    ).json()["deposit_id"]
    transfer_id = (
        await client.post(
            "/transfers",
            json={"from_account": "alice", "to_account": "bob", "amount": "3"},
            headers=auth_headers(),
        )
    ).json()["transfer_id"]

    deposit = await client.get(f"/accounts/alice/deposits/{deposit_id}", headers=auth_headers())
    transfer = await client.get(f"/transfers/{transfer_id}", headers=auth_headers())

    assert deposit.status_code == 200, deposit.text
    assert (deposit.json()["amount"], deposit.json()["balance"]) == ("5.00", "15.00")
    assert transfer.status_code == 200, transfer.text
    assert {k: transfer.json()[k] for k in ("from_account", "to_account", "amount")} == {
        "from_account": "alice",
        "to_account": "bob",
        "amount": "3.00",
    }


@pytest.mark.parametrize(
    "path", ["/accounts/alice/deposits/nope", "/transfers/nope", "/accounts/bob/deposits/{id}"]
)
async def test_an_unknown_deposit_or_transfer_is_404(client: Client, path: str) -> None:
    await open_account(client, "alice", "10")
    await open_account(client, "bob", "0")
    deposit_id = (
        await client.post("/accounts/alice/deposits", json={"amount": "5"}, headers=auth_headers())
    ).json()["deposit_id"]

    response = await client.get(path.format(id=deposit_id), headers=auth_headers())

    assert response.status_code == 404, response.text


@pytest.mark.parametrize(("sent", "answered"), [("1E+1", "10.00"), (5, "5.00"), ("0.5", "0.50")])
async def test_a_transfer_answers_its_amount_as_a_two_place_decimal_string(
    client: Client, sent: object, answered: str
) -> None:
    await open_account(client, "alice", "100")
    await open_account(client, "bob", "0")

    response = await client.post(
        "/transfers", json={"from_account": "alice", "to_account": "bob", "amount": sent}
    )

    assert response.status_code == 201
    assert response.json()["amount"] == answered


async def test_a_transfer_moves_money_and_answers_201(client: Client) -> None:
    await open_account(client, "alice", "100")
    await open_account(client, "bob", "0")

    response = await client.post(
        "/transfers", json={"from_account": "alice", "to_account": "bob", "amount": "40.50"}
    )

    assert response.status_code == 201
    assert response.json()["amount"] == "40.50"
    assert (await balance_of(client, "alice"), await balance_of(client, "bob")) == (
        "59.50",
        "40.50",
    )


async def test_insufficient_funds_are_409_with_the_reason_and_change_nothing(
    client: Client,
) -> None:
    await open_account(client, "alice", "10")
    await open_account(client, "bob", "0")

    response = await client.post(
        "/transfers", json={"from_account": "alice", "to_account": "bob", "amount": "10.01"}
    )

    assert response.status_code == 409
    assert "Insufficient funds in account 'alice'" in response.json()["detail"]
    assert await balance_of(client, "alice") == "10.00"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/accounts", {"account_id": "", "balance": "1"}, "account_id"),
        ("/accounts", {"account_id": "   ", "balance": "1"}, "account_id"),
        ("/transfers", {"from_account": " ", "to_account": "b", "amount": "5"}, "from_account"),
        ("/accounts", {"account_id": "a", "balance": "-1"}, "balance"),
        ("/accounts", {"account_id": "a", "balance": "lots"}, "balance"),
        ("/accounts", {"account_id": "a", "balance": "1.005"}, "balance"),
        ("/accounts", {"account_id": "a"}, "balance"),
        ("/accounts/alice/deposits", {"amount": 0}, "amount"),
        ("/accounts/alice/deposits", {"amount": "Infinity"}, "amount"),
        ("/transfers", {"from_account": "a", "to_account": "b", "amount": "-5"}, "amount"),
        ("/transfers", {"from_account": "a", "amount": "5"}, "to_account"),
    ],
)
async def test_invalid_input_is_400_naming_the_field(
    client: Client, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(path, json=body)

    assert response.status_code == 400, response.text
    keys = [error.get("key", "") for error in response.json()["extra"]]
    assert any(field in key for key in keys), keys


async def test_invoices_are_listed_by_order(client: Client, service: ServiceHost) -> None:
    await open_account(client, "alice", "100")
    for order_id in ("order-1", "order-2"):
        await service.mediator.send(
            PayInvoiceCommand(
                order_id=order_id, customer_id="alice", amount="30", merchant_account="merchant"
            )
        )

    response = await client.get("/invoices", params={"order_id": "order-1"})

    assert response.status_code == 200
    [invoice] = response.json()
    assert {k: invoice[k] for k in ("order_id", "customer_id", "amount", "status")} == {
        "order_id": "order-1",
        "customer_id": "alice",
        "amount": "30.00",
        "status": "PAID",
    }
    assert len((await client.get("/invoices")).json()) == 2


async def test_concurrent_opposite_transfers_over_http_all_complete(client: Client) -> None:
    await open_account(client, "alice", "100")
    await open_account(client, "bob", "100")

    def move(source: str, target: str) -> Any:
        body = {"from_account": source, "to_account": target, "amount": "1"}
        return client.post("/transfers", json=body)

    responses = await asyncio.wait_for(
        asyncio.gather(
            *(move("alice", "bob") if i % 2 else move("bob", "alice") for i in range(10))
        ),
        timeout=30,
    )

    assert [r.status_code for r in responses] == [201] * 10
    assert (await balance_of(client, "alice"), await balance_of(client, "bob")) == (
        "100.00",
        "100.00",
    )


async def test_health_reports_database_and_broker(client: Client) -> None:
    response = await client.get("/health")

    assert response.json() == {"status": "ok", "database": True, "broker": True}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/accounts", []),
        ("/accounts", None),
        ("/accounts", {"account_id": 7, "balance": "1"}),
        ("/accounts", {"account_id": "a", "balance": True}),
        ("/accounts", {"account_id": "a", "balance": "1e400"}),
        ("/accounts", {"account_id": "a" * 65, "balance": "1"}),
        ("/accounts/" + "a" * 65 + "/deposits", {"amount": "1"}),
        ("/transfers", {"from_account": "a", "to_account": "b", "amount": 10**30}),
        ("/transfers", "move it"),
    ],
)
async def test_garbage_is_a_client_error_never_a_500(client: Client, path: str, body: Any) -> None:
    response = await client.post(path, json=body)

    assert response.status_code in (400, 422), response.text


async def test_the_openapi_schema_lists_the_routes(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    assert {
        "/accounts",
        "/accounts/{account_id}",
        "/accounts/{account_id}/deposits",
        "/accounts/{account_id}/deposits/{deposit_id}",
        "/transfers",
        "/transfers/{transfer_id}",
        "/invoices",
        "/health",
    } <= set(schema["paths"])
