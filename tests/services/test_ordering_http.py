"""Ordering's HTTP API through Litestar's `AsyncTestClient` (which runs the service's lifespan).

The service is assembled by `bootstrap.build` on a SQLite file and an in-process broker, so a
request goes the whole way: validation, mediator, unit of work, outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap
from ordering_service.application.commands import RecordPaymentCommand
from tests.tokens import TEST_AUTH_SECRET, auth_headers

Client = AsyncTestClient[Any]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ServiceHost]:
    broker = InMemoryBroker(mandatory=False)
    settings = bootstrap.OrderingSettings(
        auth_secret=TEST_AUTH_SECRET, database_url=f"sqlite+aiosqlite:///{tmp_path}/o.db"
    )
    yield bootstrap.build(settings, broker=broker)
    await broker.stop()


@pytest.fixture
async def client(service: ServiceHost) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=service.create_app()) as client:
        client.headers.update(auth_headers())  # the back office: these tests are not about who
        yield client


ORDER = {"customer_id": "alice", "items": [{"sku": "book", "quantity": 3, "unit_price": "19.99"}]}


async def place(client: Client, body: dict[str, Any] = ORDER) -> str:
    response = await client.post("/orders", json=body)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


async def test_placing_an_order_answers_201_with_its_id_status_and_decimal_total(
    client: Client,
) -> None:
    response = await client.post("/orders", json=ORDER)

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total"]) == ("PENDING", "59.97")
    assert set(body) == {"order_id", "status", "total"}


async def test_amounts_may_be_numbers_and_come_back_as_decimal_strings(client: Client) -> None:
    body = {"customer_id": "bob", "items": [{"sku": "pen", "quantity": 3, "unit_price": 0.1}]}

    order_id = await place(client, body)

    order = (await client.get(f"/orders/{order_id}")).json()
    assert order["total"] == "0.30"
    assert order["items"] == [{"sku": "pen", "quantity": 3, "unit_price": "0.10"}]


async def test_an_order_reads_back_with_its_customer_status_total_and_items(
    client: Client,
) -> None:
    order_id = await place(client)

    response = await client.get(f"/orders/{order_id}")

    assert response.status_code == 200
    order = response.json()
    assert {k: order[k] for k in ("order_id", "customer_id", "status", "total")} == {
        "order_id": order_id,
        "customer_id": "alice",
        "status": "PENDING",
        "total": "59.97",
    }
    assert order["items"] == [{"sku": "book", "quantity": 3, "unit_price": "19.99"}]


async def test_an_unknown_order_is_404(client: Client) -> None:
    response = await client.get("/orders/no-such-order")

    assert response.status_code == 404
    assert "no-such-order" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer_id": "a", "items": []}, "items"),
        (
            {"customer_id": "  ", "items": [{"sku": "b", "quantity": 1, "unit_price": "1"}]},
            "customer_id",
        ),
        ({"customer_id": "a", "items": [{"sku": " ", "quantity": 1, "unit_price": "1"}]}, "sku"),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 0, "unit_price": "1"}]},
            "quantity",
        ),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "-1"}]},
            "unit_price",
        ),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "x"}]},
            "unit_price",
        ),
        (  # a free item: billing could never take a payment of zero
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "0"}]},
            "unit_price",
        ),
        (  # more than billing can invoice (14 digits)
            {
                "customer_id": "a",
                "items": [{"sku": "b", "quantity": 10_000, "unit_price": "9999999999.99"}],
            },
            "items",
        ),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "0.001"}]},
            "unit_price",
        ),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "NaN"}]},
            "unit_price",
        ),
        (
            {"customer_id": "a", "items": [{"sku": "b", "quantity": "many", "unit_price": "1"}]},
            "quantity",
        ),
        ({"customer_id": "a", "items": "book"}, "items"),
    ],
)
async def test_invalid_input_is_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/orders", json=body)

    assert response.status_code == 400, response.text
    keys = [error.get("key", "") for error in response.json()["extra"]]
    assert any(field in key for key in keys), keys


async def test_a_body_that_is_not_json_is_400_not_500(client: Client) -> None:
    response = await client.post(
        "/orders", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400


async def test_shipping_an_unpaid_order_is_409_with_the_reason(client: Client) -> None:
    order_id = await place(client)

    response = await client.post(f"/orders/{order_id}/ship")

    assert response.status_code == 409
    assert "it is PENDING" in response.json()["detail"]


async def test_shipping_a_paid_order_answers_its_shipment(
    client: Client, service: ServiceHost
) -> None:
    order_id = await place(client)
    await service.mediator.send(RecordPaymentCommand(order_id=order_id, payment_id="p-1"))

    response = await client.post(f"/orders/{order_id}/ship")

    assert response.status_code == 200
    assert response.json()["status"] == "SHIPPED"
    assert response.json()["shipment_id"]


async def test_orders_are_listed_by_customer_and_status_within_a_limit(client: Client) -> None:
    first, second = await place(client), await place(client)
    await place(client, {**ORDER, "customer_id": "bob"})

    listed = (await client.get("/orders", params={"customer_id": "alice"})).json()
    limited = (await client.get("/orders", params={"customer_id": "alice", "limit": 1})).json()
    confirmed = (await client.get("/orders", params={"status": "CONFIRMED"})).json()

    assert [o["order_id"] for o in listed] == [second, first]
    assert [o["order_id"] for o in limited] == [second]
    assert confirmed == []
    assert listed[0].pop("placed_at")
    assert listed[0] == {
        "order_id": second,
        "customer_id": "alice",
        "status": "PENDING",
        "total": "59.97",
        "item_count": 3,
    }


@pytest.mark.parametrize(
    ("params", "field"), [({"status": "LOST"}, "status"), ({"limit": 0}, "limit")]
)
async def test_an_invalid_filter_is_400_naming_it(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/orders", params=params)

    assert response.status_code == 400
    assert [error["key"] for error in response.json()["extra"]] == [field]


async def test_health_reports_database_broker_and_relay(client: Client) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": True,
        "broker": True,
        "relay": True,
        "failed": {},
    }


async def test_the_openapi_schema_lists_the_routes(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/ship", "/health"} <= set(
        schema["paths"]
    )


async def test_health_is_503_naming_what_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()  # SQLite cannot open a directory as its database
    settings = bootstrap.OrderingSettings(
        auth_secret=TEST_AUTH_SECRET,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/a-directory",
        amqp_url="amqp://guest:guest@127.0.0.1:1/",  # nothing listens on port 1
    )
    service = bootstrap.build(settings)
    # No lifespan: the service cannot start without its database; /health must still answer.
    app = service.create_app(lifespan=False)

    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health")

    assert response.status_code == 503
    report = response.json()
    assert (report["status"], report["database"], report["broker"]) == ("unavailable", False, False)
    assert report["failed"]["database"] == "refused a write (OperationalError)"
    assert report["failed"]["broker"] == "the link to the broker is down"
    await service.storage.close()


GARBAGE: list[Any] = [
    [],
    None,
    "an order",
    42,
    {"customer_id": 5, "items": [{"sku": "b", "quantity": 1, "unit_price": "1"}]},
    {"customer_id": "a", "items": [{"sku": "b", "quantity": 1.5, "unit_price": "1"}]},
    {"customer_id": "a", "items": [{"sku": "b", "quantity": 10**30, "unit_price": "1"}]},
    {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": True}]},
    {"customer_id": "a", "items": [{"sku": "b", "quantity": 1, "unit_price": "1e400"}]},
    {"customer_id": "a" * 65, "items": [{"sku": "b", "quantity": 1, "unit_price": "1"}]},
    {"customer_id": "a", "items": [None]},
]


@pytest.mark.parametrize("body", GARBAGE)
async def test_garbage_is_a_client_error_never_a_500(client: Client, body: Any) -> None:
    response = await client.post("/orders", json=body)

    assert response.status_code in (400, 422), response.text
