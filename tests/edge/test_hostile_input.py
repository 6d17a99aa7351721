"""Hostile input at both services' HTTP edges, as one table: each probe, its status, its field.

Every probe is something a careless client or an attacker sent (docs/edge/hostile-input.md
lists them with their answers). None may get a 5xx; each gets a 4xx whose body names the
field (``extra[].key``), and no error body repeats more than a short prefix of the input.
The services are the real ones, built by their bootstraps on SQLite and an in-process broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering
from tests.tokens import TEST_AUTH_SECRET, auth_headers

Client = AsyncTestClient[Any]

JSON = {"content-type": "application/json"}
ITEM = '{"sku":"book","quantity":1,"unit_price":"19.99"}'
LONG = "x" * 60_000  # a URL past 64 KB is refused by the client library itself


def order(*, customer: str = '"alice"', item: str = ITEM, more: str = "") -> bytes:
    return f'{{"customer_id":{customer},"items":[{item}]{more}}}'.encode()


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@dataclass(frozen=True)
class Probe:
    name: str
    service: str
    method: str
    path: str
    body: bytes | None
    field: str
    """The key the error body must name."""
    status: int = 400


PROBES = [
    # Bodies msgspec cannot decode: a 500 before.
    Probe(
        "invalid UTF-8 in a string",
        "ordering",
        "POST",
        "/orders",
        order().replace(b"alice", b"al\xff"),
        "body",
    ),
    Probe("arrays nested 1000 deep", "ordering", "POST", "/orders", nested(1000).encode(), "body"),
    Probe(
        "objects nested 1000 deep",
        "billing",
        "POST",
        "/accounts",
        ('{"a":' * 1000 + "1" + "}" * 1000).encode(),
        "body",
    ),
    Probe("malformed JSON", "billing", "POST", "/transfers", b'{"amount": }', "body"),
    Probe(
        "invalid UTF-8 in an account id",
        "billing",
        "POST",
        "/accounts",
        b'{"account_id":"a\xc3","balance":"1"}',
        "body",
    ),
    # Control characters in ids and text, body, path and query.
    Probe(
        "a newline in a customer id",
        "ordering",
        "POST",
        "/orders",
        order(customer='"alice\\nINFO forged"'),
        "customer_id",
    ),
    Probe(
        "a NUL in a customer id",
        "ordering",
        "POST",
        "/orders",
        order(customer='"alice\\u0000"'),
        "customer_id",
    ),
    Probe(
        "ESC in a sku",
        "ordering",
        "POST",
        "/orders",
        order(item='{"sku":"\\u001b[31m","quantity":1,"unit_price":"1.00"}'),
        "items.0.sku",
    ),
    Probe(
        "DEL in an account id",
        "billing",
        "POST",
        "/accounts",
        b'{"account_id":"a\\u007f","balance":"1"}',
        "account_id",
    ),
    Probe(
        "a carriage return in a transfer's source",
        "billing",
        "POST",
        "/transfers",
        b'{"from_account":"a\\r","to_account":"b","amount":"1.00"}',
        "from_account",
    ),
    Probe("a newline in an order id (path)", "ordering", "GET", "/orders/a%0Ab", None, "order_id"),
    Probe(
        "a newline in an account id (path)",
        "billing",
        "POST",
        "/accounts/a%0Ab/deposits",
        b'{"amount":"1.00"}',
        "account_id",
    ),
    Probe(
        "ESC in a customer filter (query)",
        "ordering",
        "GET",
        "/orders?customer_id=%1B%5B2K",
        None,
        "customer_id",
    ),
    Probe(
        "NUL in an order filter (query)",
        "billing",
        "GET",
        "/invoices?order_id=a%00b",
        None,
        "order_id",
    ),
    # Money read exactly: a JSON number is a decimal, never a float.
    Probe(
        "a price as a number with 20 decimals",
        "ordering",
        "POST",
        "/orders",
        order(item='{"sku":"book","quantity":1,"unit_price":10.00999999999999999999}'),
        "items.0.unit_price",
    ),
    Probe(
        "a balance as a number with 3 decimals",
        "billing",
        "POST",
        "/accounts",
        b'{"account_id":"carol","balance":10.001}',
        "balance",
    ),
    Probe(
        "a transfer as a number with 20 decimals",
        "billing",
        "POST",
        "/transfers",
        b'{"from_account":"a","to_account":"b","amount":10.00999999999999999999}',
        "amount",
    ),
    Probe(
        "a deposit as a number with 3 decimals",
        "billing",
        "POST",
        "/accounts/carol/deposits",
        b'{"amount":0.001}',
        "amount",
    ),
    # Strict types and unknown fields.
    Probe(
        "true as a quantity",
        "ordering",
        "POST",
        "/orders",
        order(item='{"sku":"book","quantity":true,"unit_price":"1.00"}'),
        "items.0.quantity",
    ),
    Probe(
        "a quantity as text",
        "ordering",
        "POST",
        "/orders",
        order(item='{"sku":"book","quantity":"3","unit_price":"1.00"}'),
        "items.0.quantity",
    ),
    Probe(
        "true as an amount",
        "billing",
        "POST",
        "/transfers",
        b'{"from_account":"a","to_account":"b","amount":true}',
        "amount",
    ),
    Probe(
        "an unknown field",
        "ordering",
        "POST",
        "/orders",
        order(more=',"discount":"50%"'),
        "discount",
    ),
    Probe(
        "an unknown field in an item",
        "ordering",
        "POST",
        "/orders",
        order(item='{"sku":"b","quantity":1,"unit_price":"1.00","free":true}'),
        "items.0.free",
    ),
    Probe(
        "a misspelt field",
        "billing",
        "POST",
        "/accounts/carol/deposits",
        b'{"amount":"1.00","ammount":"1000.00"}',
        "ammount",
    ),
    # Long input is refused by name and never echoed whole.
    Probe(
        "a 60 KB customer filter",
        "ordering",
        "GET",
        f"/orders?customer_id={LONG}",
        None,
        "customer_id",
    ),
    Probe("a 60 KB order filter", "billing", "GET", f"/invoices?order_id={LONG}", None, "order_id"),
    Probe(
        "a 60 KB customer id",
        "ordering",
        "POST",
        "/orders",
        order(customer=f'"{LONG}"'),
        "customer_id",
    ),
    # Paging bounds.
    Probe("limit 0", "ordering", "GET", "/orders?limit=0", None, "limit"),
    Probe("limit 1001", "billing", "GET", "/invoices?limit=1001", None, "limit"),
    Probe("limit true", "ordering", "GET", "/notifications?limit=true", None, "limit"),
    Probe("a tampered cursor", "ordering", "GET", "/orders?cursor=not-a-cursor", None, "cursor"),
    Probe("a forged cursor", "billing", "GET", "/invoices?cursor=eyJ4IjoxfQ", None, "cursor"),
]

ECHO_BUDGET = 2_000
"""An error body stays this short whatever the input's size (its strings are cut at 200)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clients(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Client]]:
    # One pair of services for the whole table: building them per probe costs a second each.
    directory = tmp_path_factory.mktemp("hostile")
    broker = InMemoryBroker(mandatory=False)
    services = {
        "ordering": ordering.build(
            ordering.OrderingSettings(
                auth_secret=TEST_AUTH_SECRET, database_url=f"sqlite+aiosqlite:///{directory}/o.db"
            ),
            broker=broker,
        ),
        "billing": billing.build(
            billing.BillingSettings(
                auth_secret=TEST_AUTH_SECRET, database_url=f"sqlite+aiosqlite:///{directory}/b.db"
            ),
            broker=broker,
        ),
    }
    async with (
        AsyncTestClient(app=services["ordering"].create_app()) as ordering_client,
        AsyncTestClient(app=services["billing"].create_app()) as billing_client,
    ):
        yield {"ordering": ordering_client, "billing": billing_client}
    await broker.stop()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
async def test_a_hostile_probe_gets_a_4xx_naming_its_field_and_a_short_body(
    probe: Probe, clients: dict[str, Client]
) -> None:
    headers = {**auth_headers(), **(JSON if probe.body is not None else {})}

    response = await clients[probe.service].request(
        probe.method, probe.path, content=probe.body, headers=headers
    )

    assert response.status_code == probe.status, response.text[:300]
    keys = [error.get("key") for error in response.json().get("extra", [])]
    assert probe.field in keys, response.text[:300]
    assert len(response.content) <= ECHO_BUDGET


def test_the_table_covers_both_services() -> None:
    assert {probe.service for probe in PROBES} == {"ordering", "billing"}
