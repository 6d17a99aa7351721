"""Both services over HTTP, for the idempotency tests and scenarios.

`serve` builds a service with its composition root on a database (a SQLite file, PostgreSQL or
``memory``) and an in-process broker, starts it, and yields an `AsyncTestClient` on its app:
a request goes the whole way - the idempotency edge, the routes, the mediator, the unit of work.
Every request sends `auth_headers()`, as a real client must.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from httpx import Response
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing_bootstrap
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from tests.tokens import TEST_AUTH_SECRET, auth_headers

Service = Literal["ordering", "billing"]
ORDER = {"customer_id": "alice", "items": [{"sku": "book", "quantity": 3, "unit_price": "19.99"}]}


def build(
    service: Service, database_url: str, **settings: Any
) -> tuple[ServiceHost, InMemoryBroker]:
    broker = InMemoryBroker(mandatory=False)
    # auth_secret: the secret the service verifies tokens with, once it asks for one.
    common = {"database_url": database_url, "auth_secret": TEST_AUTH_SECRET, **settings}
    if service == "ordering":
        host = ordering_bootstrap.build(
            ordering_bootstrap.OrderingSettings(**common), broker=broker
        )
    else:
        host = billing_bootstrap.build(billing_bootstrap.BillingSettings(**common), broker=broker)
    return host, broker


class Client:
    """An authenticated client of one service; ``key`` adds an ``Idempotency-Key``."""

    def __init__(self, client: AsyncTestClient[Any], host: ServiceHost) -> None:
        self.http = client
        self.host = host

    async def post(self, path: str, body: Any, *, key: str | None = None) -> Response:
        headers = auth_headers()
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.http.post(path, json=body, headers=headers)

    async def get(self, path: str) -> Response:
        return await self.http.get(path, headers=auth_headers())


@asynccontextmanager
async def serve(service: Service, database_url: str, **settings: Any) -> AsyncIterator[Client]:
    host, broker = build(service, database_url, **settings)
    try:
        async with AsyncTestClient(app=host.create_app()) as client:
            yield Client(client, host)
    finally:
        await broker.stop()
