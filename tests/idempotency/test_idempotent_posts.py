"""``Idempotency-Key`` on both services' POSTs, over HTTP, on SQLite and PostgreSQL.

What a client relies on: a retry gets the first response again (marked replayed) and no
second effect, whatever the timing - twenty copies sent at once included; a key reused for
another request is refused; a bad key is refused before anything runs; a failed request is not
remembered; a response that cannot be stored takes its effects with it; and keys expire.
The scenario: features/edge/idempotency.feature.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

from cqrs_ddd_core.adapters.litestar import idempotency
from cqrs_ddd_core.adapters.litestar.idempotency import ANONYMOUS, caller_of
from cqrs_ddd_core.ports.idempotency import IIdempotencyStorage
from cqrs_ddd_core.primitives.actor import Actor
from tests.idempotency.edge import ORDER, Client, Service, serve
from tests.services.databases import empty_database
from tests.tokens import auth_headers

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
CONCURRENT = 20
TIMEOUT = 60.0


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The kind of database, and for PostgreSQL the server (a session fixture, set up here)."""
    if request.param == "postgres":
        return "postgres", str(request.getfixturevalue("postgres_url"))
    return "sqlite", None


@pytest.fixture
async def database_url(database: tuple[str, str | None], tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(*database, tmp_path) as url:
        yield url


@pytest.fixture
async def ordering(database_url: str) -> AsyncIterator[Client]:
    async with serve("ordering", database_url) as client:
        yield client


@pytest.fixture
async def billing(database_url: str) -> AsyncIterator[Client]:
    async with serve("billing", database_url) as client:
        yield client


async def open_accounts(billing: Client, **balances: str) -> None:
    for account_id, balance in balances.items():
        response = await billing.post("/accounts", {"account_id": account_id, "balance": balance})
        assert response.status_code == 201, response.text


async def balances(billing: Client, *accounts: str) -> list[str]:
    return [(await billing.get(f"/accounts/{a}")).json()["balance"] for a in accounts]


def replayed(response: Response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


async def test_a_retried_order_is_answered_again_and_placed_once(ordering: Client) -> None:
    first = await ordering.post("/orders", ORDER, key="order-1")
    retry = await ordering.post("/orders", ORDER, key="order-1")

    assert (first.status_code, replayed(first)) == (201, False)
    assert (retry.status_code, retry.content, replayed(retry)) == (201, first.content, True)
    assert len((await ordering.get("/orders")).json()) == 1


async def test_a_key_reused_for_another_body_or_path_is_422(ordering: Client) -> None:
    placed = await ordering.post("/orders", ORDER, key="k")
    order_id = placed.json()["order_id"]

    other_body = await ordering.post("/orders", {**ORDER, "customer_id": "bob"}, key="k")
    other_path = await ordering.post(f"/orders/{order_id}/ship", None, key="k")

    for response in (other_body, other_path):
        assert response.status_code == 422, response.text
        assert "Idempotency-Key" in response.json()["detail"]
    assert len((await ordering.get("/orders")).json()) == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "caf\u00e9".encode(), "a\x01b", "tab\there"], ids=repr
)
async def test_a_bad_key_is_400_naming_the_header_and_nothing_runs(
    ordering: Client, key: str | bytes
) -> None:
    headers: dict[str, Any] = {**auth_headers(), "Idempotency-Key": key}
    response = await ordering.http.post("/orders", json=ORDER, headers=headers)

    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    assert (await ordering.get("/orders")).json() == []


async def test_two_idempotency_keys_on_one_request_are_400(ordering: Client) -> None:
    # Straight to the ASGI app: the test client would join the two headers into one value.
    headers = [(k.lower().encode(), v.encode()) for k, v in auth_headers().items()]
    headers += [(b"idempotency-key", b"a"), (b"idempotency-key", b"b")]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": json.dumps(ORDER).encode(), "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/orders",
        "raw_path": b"/orders",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await ordering.http.app(scope, receive, send)  # type: ignore[arg-type]

    assert sent[0]["status"] == 400
    assert b"Idempotency-Key" in sent[1]["body"]
    assert (await ordering.get("/orders")).json() == []


async def test_a_body_over_the_limit_is_413_and_nothing_runs(
    ordering: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "MAX_BODY", 100)

    response = await ordering.post("/orders", {**ORDER, "customer_id": "c" * 64}, key="k")

    assert response.status_code == 413, response.text
    assert (await ordering.get("/orders")).json() == []


async def test_the_longest_key_is_accepted(ordering: Client) -> None:
    key = "~" * 255
    first = await ordering.post("/orders", ORDER, key=key)
    retry = await ordering.post("/orders", ORDER, key=key)

    assert (first.status_code, retry.status_code, replayed(retry)) == (201, 201, True)


async def test_a_failed_request_is_not_remembered_and_its_retry_runs_anew(
    billing: Client,
) -> None:
    await open_accounts(billing, alice="5", bob="0")
    body = {"from_account": "alice", "to_account": "bob", "amount": "10"}

    refused = await billing.post("/transfers", body, key="t-1")
    await billing.post("/accounts/alice/deposits", {"amount": "20"}, key="d-1")
    retry = await billing.post("/transfers", body, key="t-1")

    assert refused.status_code == 409, refused.text
    assert (retry.status_code, replayed(retry)) == (201, False)
    assert await balances(billing, "alice", "bob") == ["15.00", "10.00"]


async def test_a_retried_deposit_and_transfer_read_back_once(billing: Client) -> None:
    await open_accounts(billing, alice="100", bob="0")
    body = {"from_account": "alice", "to_account": "bob", "amount": "30"}

    deposits = [
        await billing.post("/accounts/alice/deposits", {"amount": "5"}, key="d") for _ in "12"
    ]
    transfers = [await billing.post("/transfers", body, key="t") for _ in "12"]

    assert deposits[0].json() == deposits[1].json()
    assert transfers[0].json() == transfers[1].json()
    assert replayed(deposits[1])
    assert replayed(transfers[1])
    deposit_id, transfer_id = deposits[0].json()["deposit_id"], transfers[0].json()["transfer_id"]
    assert (await billing.get(f"/accounts/alice/deposits/{deposit_id}")).status_code == 200
    assert (await billing.get(f"/transfers/{transfer_id}")).status_code == 200
    assert await balances(billing, "alice", "bob") == ["75.00", "30.00"]


async def test_an_order_whose_response_cannot_be_stored_is_not_placed(ordering: Client) -> None:
    storage = ordering.host.storage.idempotency

    class Unstorable(type(storage)):  # type: ignore[misc]
        async def save(self, *args: Any, **kwargs: Any) -> bool:
            await super().save(*args, **kwargs)
            raise RuntimeError("the disk is full")

    storage.__class__ = Unstorable
    try:
        failed = await ordering.post("/orders", ORDER, key="k")
    finally:
        storage.__class__ = Unstorable.__mro__[1]

    assert failed.status_code == 503
    assert "retry with the same Idempotency-Key" in failed.json()["detail"]
    assert (await ordering.get("/orders")).json() == []  # the order rolled back with the key
    retry = await ordering.post("/orders", ORDER, key="k")
    assert (retry.status_code, replayed(retry)) == (201, False)


async def test_a_key_expires_after_its_time_to_live(database_url: str) -> None:
    async with serve("ordering", database_url, idempotency_ttl_seconds=0.5) as ordering:
        storage: IIdempotencyStorage = ordering.host.storage.idempotency
        assert storage.ttl == timedelta(seconds=0.5)

        first = await ordering.post("/orders", ORDER, key="k")
        await asyncio.sleep(0.6)
        again = await ordering.post("/orders", ORDER, key="k")

        assert (again.status_code, replayed(again)) == (201, False)
        assert again.json()["order_id"] != first.json()["order_id"]
        assert len((await ordering.get("/orders")).json()) == 2


def test_keys_belong_to_the_authenticated_actor_else_to_one_anonymous_caller() -> None:
    alice: Any = {"user": Actor(id="alice")}
    nobody: Any = {}

    assert (caller_of(alice), caller_of(nobody)) == ("alice", ANONYMOUS)


async def test_requests_without_a_key_behave_as_before(ordering: Client) -> None:
    responses = [await ordering.post("/orders", ORDER) for _ in range(2)]

    assert [(r.status_code, replayed(r)) for r in responses] == [(201, False)] * 2
    assert len((await ordering.get("/orders")).json()) == 2


# --8<-- [start:concurrency]
async def send_at_once(client: Client, path: str, body: Any, key: str) -> list[Response]:
    """``CONCURRENT`` copies of one request with one key, all in flight together."""
    copies = [client.post(path, body, key=key) for _ in range(CONCURRENT)]
    return await asyncio.wait_for(asyncio.gather(*copies), timeout=TIMEOUT)


async def test_twenty_orders_sent_at_once_with_one_key_place_one(ordering: Client) -> None:
    responses = await send_at_once(ordering, "/orders", ORDER, key="order-1")

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1  # one answer, replayed to the others
    assert sum(not replayed(r) for r in responses) == 1
    assert len((await ordering.get("/orders")).json()) == 1
    # --8<-- [end:concurrency]


async def test_twenty_transfers_sent_at_once_with_one_key_move_the_money_once(
    billing: Client,
) -> None:
    # Enough for one transfer, not two: a copy that ran after the first would be refused -
    # and is answered with the first one's response instead.
    await open_accounts(billing, alice="50", bob="0")
    body = {"from_account": "alice", "to_account": "bob", "amount": "30"}

    responses = await send_at_once(billing, "/transfers", body, key="transfer-1")

    assert {r.status_code for r in responses} == {201}, {r.text for r in responses}
    assert len({r.json()["transfer_id"] for r in responses}) == 1
    assert await balances(billing, "alice", "bob") == ["20.00", "30.00"]


@pytest.mark.parametrize("service", ["ordering", "billing"])
async def test_the_same_key_from_two_replicas_at_once_has_one_effect(
    database_url: str, service: Service
) -> None:
    # Two apps on one database: nothing in process is shared, only the primary key decides.
    async with serve(service, database_url) as one, serve(service, database_url) as other:
        if service == "billing":
            await open_accounts(one, alice="50", bob="0")
            path, body = (
                "/transfers",
                {"from_account": "alice", "to_account": "bob", "amount": "30"},
            )
        else:
            path, body = "/orders", ORDER
        copies = [c.post(path, body, key="k") for c in (one, other) * (CONCURRENT // 2)]
        responses = await asyncio.wait_for(asyncio.gather(*copies), timeout=TIMEOUT)

        assert {r.status_code for r in responses} == {201}, {r.text for r in responses}
        assert len({r.content for r in responses}) == 1
        if service == "billing":
            assert await balances(one, "alice", "bob") == ["20.00", "30.00"]
        else:
            assert len((await one.get("/orders")).json()) == 1
