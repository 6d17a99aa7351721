"""Every list endpoint pages: following ``Link: rel="next"`` returns every row exactly once,
the last page has no ``Link``, and the body stays a JSON array.

Orders and invoices are paged by their databases (a keyset over the sort key), so they are
walked on SQLite and on PostgreSQL; the notifications are the log kept in memory.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing
from billing_service.application.commands import OpenAccountCommand, PayInvoiceCommand
from billing_service.application.queries import ListInvoicesQuery
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.litestar.paging import encode_cursor
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering
from ordering_service.application.ports import OrderSummary
from ordering_service.application.queries import ListOrdersQuery
from tests.services.databases import empty_database
from tests.tokens import TEST_AUTH_SECRET, auth_headers

Client = AsyncTestClient[Any]

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


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
async def broker() -> AsyncIterator[InMemoryBroker]:
    broker = InMemoryBroker(mandatory=False)
    yield broker
    await broker.stop()


async def serve(service: ServiceHost) -> AsyncIterator[tuple[ServiceHost, Client]]:
    async with AsyncTestClient(app=service.create_app()) as client:
        yield service, client


@pytest.fixture
async def ordering_service(
    database_url: str, broker: InMemoryBroker
) -> AsyncIterator[tuple[ServiceHost, Client]]:
    settings = ordering.OrderingSettings(auth_secret=TEST_AUTH_SECRET, database_url=database_url)
    async for served in serve(ordering.build(settings, broker=broker)):
        yield served


@pytest.fixture
async def billing_service(
    database_url: str, broker: InMemoryBroker
) -> AsyncIterator[tuple[ServiceHost, Client]]:
    settings = billing.BillingSettings(auth_secret=TEST_AUTH_SECRET, database_url=database_url)
    async for served in serve(billing.build(settings, broker=broker)):
        yield served


async def walk(client: Client, url: str) -> list[list[dict[str, Any]]]:
    """Every page from ``url`` on, following ``Link: rel="next"`` until a page has none."""
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url, headers=auth_headers())
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list)
        pages.append(response.json())
        link = response.headers.get("Link")
        next_url = None if link is None else NEXT.match(link)["url"]  # type: ignore[index]
    return pages


async def place_orders(client: Client, count: int) -> list[str]:
    ids = []
    for n in range(count):
        body = {
            "customer_id": "alice",
            "items": [{"sku": f"sku-{n}", "quantity": 1, "unit_price": "1.00"}],
        }
        response = await client.post("/orders", json=body, headers=auth_headers())
        assert response.status_code == 201, response.text
        ids.append(response.json()["order_id"])
    return ids


async def test_walking_the_orders_returns_each_once_newest_first_and_the_last_page_has_no_link(
    ordering_service: tuple[ServiceHost, Client],
) -> None:
    _, client = ordering_service
    placed = await place_orders(client, 5)

    pages = await walk(client, "/orders?limit=2&customer_id=alice")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [order["order_id"] for page in pages for order in page] == placed[::-1]


async def test_a_last_page_that_is_full_has_no_link_either(
    ordering_service: tuple[ServiceHost, Client],
) -> None:
    _, client = ordering_service
    await place_orders(client, 4)

    pages = await walk(client, "/orders?limit=2")

    assert [len(page) for page in pages] == [2, 2]


async def test_the_next_link_keeps_the_filters_and_replaces_the_cursor(
    ordering_service: tuple[ServiceHost, Client],
) -> None:
    _, client = ordering_service
    await place_orders(client, 3)

    response = await client.get("/orders?status=PENDING&limit=1", headers=auth_headers())

    url = NEXT.match(response.headers["Link"])["url"]  # type: ignore[index]
    path, query = url.split("?")
    assert path == "/orders"
    assert sorted(query.split("&"))[1:] == ["limit=1", "status=PENDING"]  # [0] is the cursor
    second = await client.get(url, headers=auth_headers())
    assert NEXT.match(second.headers["Link"])["url"].count("cursor=") == 1  # type: ignore[index]


async def pay_invoices(service: ServiceHost, count: int) -> None:
    await service.mediator.send(OpenAccountCommand(account_id="alice", balance=Decimal("100")))
    for n in range(count):
        await service.mediator.send(
            PayInvoiceCommand(
                order_id=f"order-{n}",
                customer_id="alice",
                amount=Decimal("1.00"),
                merchant_account="merchant",
            )
        )


# The test client serves the app on a loop of its own: commands sent from the test's loop
# work on SQLite only (asyncpg connections belong to one loop), so the HTTP walk runs there
# and the keyset query itself is walked on both databases below.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_walking_the_invoices_returns_each_once(
    billing_service: tuple[ServiceHost, Client],
) -> None:
    service, client = billing_service
    await pay_invoices(service, 5)

    pages = await walk(client, "/invoices?limit=2")

    invoices = [invoice["invoice_id"] for page in pages for invoice in page]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert invoices == sorted(invoices)
    assert len(set(invoices)) == 5


async def test_the_invoice_keyset_pages_every_invoice_once(
    database_url: str, broker: InMemoryBroker
) -> None:
    service = billing.build(
        billing.BillingSettings(auth_secret=TEST_AUTH_SECRET, database_url=database_url),
        broker=broker,
    )
    await service.start()
    try:
        await pay_invoices(service, 5)
        seen: list[str] = []
        after = None
        while True:
            query = ListInvoicesQuery(limit=2, after=after)
            invoices = (await service.mediator.send(query)).result
            if not invoices:
                break
            seen.extend(invoice.invoice_id for invoice in invoices)
            after = invoices[-1].invoice_id
    finally:
        await service.stop()

    assert len(seen) == 5
    assert seen == sorted(set(seen))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_walking_the_notifications_returns_each_once_even_as_old_ones_are_let_go(
    ordering_service: tuple[ServiceHost, Client],
) -> None:
    service, client = ordering_service
    log = service.notifications
    for n in range(5):
        await log.handle({"event_type": "OrderConfirmed", "order_id": f"order-{n}"})

    first = await client.get("/notifications?limit=2", headers=auth_headers())
    for n in range(5, 7):  # two more arrive between the pages
        await log.handle({"event_type": "OrderConfirmed", "order_id": f"order-{n}"})
    rest = await walk(client, NEXT.match(first.headers["Link"])["url"])  # type: ignore[index]

    seen = [note["order_id"] for page in [first.json(), *rest] for note in page]
    assert seen == [f"order-{n}" for n in range(7)]


async def test_a_cursor_from_another_endpoint_is_refused_by_name(
    ordering_service: tuple[ServiceHost, Client],
) -> None:
    _, client = ordering_service

    response = await client.get(
        f"/orders?cursor={encode_cursor('invoice-1')}", headers=auth_headers()
    )

    assert response.status_code == 400
    assert [error["key"] for error in response.json()["extra"]] == ["cursor"]


async def test_orders_placed_at_the_same_instant_page_by_id_without_loss_or_repeat(
    database_url: str, broker: InMemoryBroker
) -> None:
    # The tiebreak: a keyset on placed_at alone would drop or repeat orders sharing one.
    service = ordering.build(
        ordering.OrderingSettings(auth_secret=TEST_AUTH_SECRET, database_url=database_url),
        broker=broker,
    )
    await service.start()
    instant = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    ids = [f"order-{n}" for n in range(5)]
    try:
        async with service.plumbing.storage.uow_factory() as uow:
            for order_id in ids:
                summary = OrderSummary(order_id, "alice", "PENDING", Decimal("1.00"), 1, instant)
                await uow.order_summaries.save(summary)  # type: ignore[attr-defined]
            await uow.commit()
        seen: list[str] = []
        after = None
        while True:
            query = ListOrdersQuery(limit=2, after=after)
            summaries = (await service.mediator.send(query)).result
            if not summaries:
                break
            seen.extend(summary.order_id for summary in summaries)
            after = (summaries[-1].placed_at, summaries[-1].order_id)
    finally:
        await service.stop()

    assert seen == ids[::-1]
