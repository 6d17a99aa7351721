"""Who may call what, over both services' real HTTP apps (in memory, one shared broker).

The rules, one test each: 401 for a request that proves no caller, 403 for a customer acting
for another, 404 for another's order or account, lists narrowed to the caller's own rows,
operator-only routes; and the settings that make a service refuse to run without a secret.
Scenarios: features/edge/. Guide: docs/security.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing_bootstrap
from cqrs_ddd_core.adapters.host.settings import MissingAuthSecretError
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from tests.tokens import TEST_AUTH_SECRET, auth_headers, token

Client = AsyncTestClient[Any]
ROOT = Path(__file__).resolve().parents[2]
OPS = auth_headers()
ALICE = auth_headers("alice", operator=False)
MALLORY = auth_headers("mallory", operator=False)
ITEMS = [{"sku": "lamp", "quantity": 1, "unit_price": "30.00"}]


@pytest.fixture
async def services() -> AsyncIterator[tuple[Client, Client]]:
    broker = InMemoryBroker(redelivery_delay=0.01)
    ordering = ordering_bootstrap.build(
        ordering_bootstrap.OrderingSettings(
            database_url="memory", outbox_poll_interval=0.05, auth_secret=TEST_AUTH_SECRET
        ),
        broker=broker,
    )
    billing = billing_bootstrap.build(
        billing_bootstrap.BillingSettings(
            database_url="memory", outbox_poll_interval=0.05, auth_secret=TEST_AUTH_SECRET
        ),
        broker=broker,
    )
    async with (
        AsyncTestClient(app=billing.create_app()) as billing_client,
        AsyncTestClient(app=ordering.create_app()) as ordering_client,
    ):
        for account_id in ("alice", "mallory"):
            body = {"account_id": account_id, "balance": "100"}
            opened = await billing_client.post("/accounts", json=body, headers=OPS)
            assert opened.status_code == 201, opened.text
        yield ordering_client, billing_client
    await broker.stop()


@pytest.fixture
def ordering(services: tuple[Client, Client]) -> Client:
    return services[0]


@pytest.fixture
def billing(services: tuple[Client, Client]) -> Client:
    return services[1]


# --- 401: no caller proven ------------------------------------------------------------------

UNAUTHENTICATED = {
    "no header": ({}, "Bearer"),
    "another scheme": ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "Bearer"),
    "an empty bearer": ({"Authorization": "Bearer "}, "Bearer"),
    "a malformed token": ({"Authorization": "Bearer abc.def"}, 'Bearer error="invalid_token"'),
    "an expired token": (
        {"Authorization": f"Bearer {token('alice', lifetime_seconds=-60)}"},
        'Bearer error="invalid_token"',
    ),
}


@pytest.mark.parametrize(
    ("headers", "challenge"), UNAUTHENTICATED.values(), ids=UNAUTHENTICATED.keys()
)
@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        ("ordering", "GET", "/orders"),
        ("ordering", "POST", "/orders"),
        ("ordering", "GET", "/notifications"),
        ("billing", "GET", "/accounts/alice"),
        ("billing", "POST", "/transfers"),
        ("billing", "GET", "/invoices"),
    ],
)
async def test_a_request_that_proves_no_caller_is_401_with_a_bearer_challenge(
    services: tuple[Client, Client],
    service: str,
    method: str,
    path: str,
    headers: dict[str, str],
    challenge: str,
) -> None:
    client = services[0] if service == "ordering" else services[1]
    response = await client.request(method, path, headers=headers, json={})

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.json()["status_code"] == 401


@pytest.mark.parametrize("path", ["/health", "/schema/openapi.json"])
async def test_health_and_the_api_description_need_no_token(ordering: Client, path: str) -> None:
    assert (await ordering.get(path)).status_code == 200


# --- billing: a customer's own account only ---------------------------------------------------


async def test_a_customer_opens_only_its_own_account(billing: Client) -> None:
    own = await billing.post(
        "/accounts",
        json={"account_id": "carol", "balance": "0"},
        headers=auth_headers("carol", operator=False),
    )
    other = await billing.post(
        "/accounts", json={"account_id": "dave", "balance": "0"}, headers=MALLORY
    )

    assert own.status_code == 201, own.text
    assert other.status_code == 403
    assert (await billing.get("/accounts/dave", headers=OPS)).status_code == 404


async def test_a_customer_deposits_only_into_its_own_account(billing: Client) -> None:
    own = await billing.post("/accounts/mallory/deposits", json={"amount": "5"}, headers=MALLORY)
    other = await billing.post("/accounts/alice/deposits", json={"amount": "5"}, headers=MALLORY)

    assert own.status_code == 200, own.text
    assert other.status_code == 403
    assert (await billing.get("/accounts/alice", headers=OPS)).json()["balance"] == "100.00"


async def test_a_customer_transfers_only_from_its_own_account(billing: Client) -> None:
    body = {"from_account": "alice", "to_account": "mallory", "amount": "10"}

    assert (await billing.post("/transfers", json=body, headers=MALLORY)).status_code == 403
    assert (await billing.post("/transfers", json=body, headers=ALICE)).status_code == 201
    assert (await billing.post("/transfers", json=body, headers=OPS)).status_code == 201


async def test_another_customers_account_reads_as_unknown(billing: Client) -> None:
    theirs = await billing.get("/accounts/alice", headers=MALLORY)
    unknown = await billing.get("/accounts/nobody", headers=OPS)

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == unknown.json()["detail"].replace("nobody", "alice")
    assert (await billing.get("/accounts/alice", headers=ALICE)).status_code == 200


# --- ordering: a customer's own orders only --------------------------------------------------


async def place(ordering: Client, headers: dict[str, str], **body: Any) -> str:
    response = await ordering.post("/orders", json={"items": ITEMS, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["order_id"])


async def test_an_order_without_a_customer_is_the_callers(ordering: Client) -> None:
    order_id = await place(ordering, ALICE)

    assert (await ordering.get(f"/orders/{order_id}", headers=ALICE)).json()["customer_id"] == (
        "alice"
    )


async def test_a_customer_orders_only_for_itself_and_an_operator_for_anyone(
    ordering: Client,
) -> None:
    refused = await ordering.post(
        "/orders", json={"customer_id": "alice", "items": ITEMS}, headers=MALLORY
    )

    assert refused.status_code == 403
    assert "mallory" in refused.json()["detail"]
    await place(ordering, OPS, customer_id="alice")


async def test_a_customer_lists_only_its_own_orders(ordering: Client) -> None:
    alices = await place(ordering, ALICE)
    mallorys = await place(ordering, MALLORY)

    listed = {
        name: [o["order_id"] for o in (await ordering.get("/orders", headers=headers)).json()]
        for name, headers in (("alice", ALICE), ("mallory", MALLORY), ("ops", OPS))
    }

    assert listed["alice"] == [alices]
    assert listed["mallory"] == [mallorys]
    assert set(listed["ops"]) == {alices, mallorys}


async def test_only_an_operator_ships_and_reads_the_notifications(ordering: Client) -> None:
    order_id = await place(ordering, ALICE)

    assert (await ordering.post(f"/orders/{order_id}/ship", headers=ALICE)).status_code == 403
    assert (await ordering.get("/notifications", headers=ALICE)).status_code == 403
    assert (await ordering.get("/notifications", headers=OPS)).status_code == 200


async def test_a_customer_lists_only_its_own_invoices(ordering: Client, billing: Client) -> None:
    alices = await place(ordering, ALICE)
    await place(ordering, MALLORY)
    for _ in range(200):  # billing pays both orders in the background
        if len((await billing.get("/invoices", headers=OPS)).json()) == 2:
            break
        await asyncio.sleep(0.05)

    invoices = (await billing.get("/invoices", headers=ALICE)).json()

    assert [invoice["order_id"] for invoice in invoices] == [alices]
    by_order = await billing.get(f"/invoices?order_id={alices}", headers=MALLORY)
    assert by_order.json() == []


# --- the secret -------------------------------------------------------------------------------


def test_the_secret_is_hidden_from_reprs_and_errors() -> None:
    settings = ordering_bootstrap.OrderingSettings(auth_secret=TEST_AUTH_SECRET)
    assert TEST_AUTH_SECRET not in repr(settings)

    with pytest.raises(pydantic.ValidationError) as refused:
        ordering_bootstrap.OrderingSettings(auth_secret="short-secret")
    assert "32 bytes" in str(refused.value)
    assert "short-secret" not in str(refused.value)


def test_a_service_without_a_secret_serves_no_app() -> None:
    service = ordering_bootstrap.build(ordering_bootstrap.OrderingSettings(database_url="memory"))

    with pytest.raises(MissingAuthSecretError, match="AUTH_SECRET is not set"):
        service.create_app()


@pytest.mark.parametrize("module", ["ordering_service", "billing_service"])
def test_python_m_service_refuses_to_start_without_auth_secret(module: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "AUTH_SECRET"}
    env["DATABASE_URL"] = "memory"
    finished = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode != 0
    last_line = finished.stderr.strip().splitlines()[-1]
    assert "AUTH_SECRET is not set" in last_line, finished.stderr
