"""The world of the edge's scenarios: both services' real HTTP apps, called as their clients.

Ordering and billing are assembled by their own ``bootstrap.build`` (in-memory storage, one
shared `InMemoryBroker`) and served by Litestar's `AsyncTestClient`, whose lifespan starts and
stops them on the scenario's event loop. Every request names its caller with a bearer token
signed with `TEST_AUTH_SECRET` (tests/tokens.py): a customer by its id, or the back office.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal
from litestar.testing import AsyncTestClient
from pytest_bdd import given, parsers, then

from billing_service import bootstrap as billing_bootstrap
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from tests.conftest import Run
from tests.tokens import TEST_AUTH_SECRET, auth_headers

BACK_OFFICE = auth_headers()
ITEMS = [{"sku": "lamp", "quantity": 1, "unit_price": "30.00"}]


@dataclass
class Edge:
    """The two services' HTTP clients, and the last answer a step got."""

    run: Run
    ordering: AsyncTestClient[Any]
    billing: AsyncTestClient[Any]
    answer: httpx.Response | None = None
    order_id: str | None = None
    token: str | None = None
    answers: list[httpx.Response] = field(default_factory=list)

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        client = self.ordering if service == "ordering" else self.billing
        response: httpx.Response = self.run(
            lambda: client.request(method, path, headers=headers or {}, json=json)
        )
        return response

    def as_customer(
        self, customer: str, service: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        headers = auth_headers(customer, operator=False)
        return self.call(service, method, path, headers=headers, **kwargs)


@pytest.fixture
def edge(run: Run, portal: BlockingPortal) -> Iterator[Edge]:
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
    with ExitStack() as stack:
        stack.callback(run, broker.stop)
        # Billing first: it consumes what ordering publishes.
        billing_client = stack.enter_context(
            portal.wrap_async_context_manager(AsyncTestClient(app=billing.create_app()))
        )
        ordering_client = stack.enter_context(
            portal.wrap_async_context_manager(AsyncTestClient(app=ordering.create_app()))
        )
        yield Edge(run, ordering_client, billing_client)


@given(
    parsers.parse(
        'the back office opened account "{first}" with "{first_balance}" and account '
        '"{second}" with "{second_balance}"'
    )
)
def accounts_opened(
    edge: Edge, first: str, first_balance: str, second: str, second_balance: str
) -> None:
    for account_id, balance in ((first, first_balance), (second, second_balance)):
        body = {"account_id": account_id, "balance": balance}
        opened = edge.call("billing", "POST", "/accounts", headers=BACK_OFFICE, json=body)
        assert opened.status_code == 201, opened.text


@then(parsers.parse("the answer is {status:d}"))
def the_answer_is(edge: Edge, status: int) -> None:
    assert edge.answer is not None
    assert edge.answer.status_code == status, edge.answer.text
