"""Scenarios: features/edge/idempotency.feature - both services over HTTP, on SQLite files.

Each scenario starts the real service (`tests/idempotency/edge.py`: composition root, app,
idempotency edge) on the scenario's event loop, and every request goes through HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from httpx import Response
from pytest_bdd import given, parsers, scenarios, then, when

from tests.conftest import Run
from tests.idempotency.edge import ORDER, Client, Service, serve

scenarios("edge/idempotency.feature")


class Edge:
    """The service under test and the answers it gave, in order."""

    def __init__(self, portal: BlockingPortal, directory: Path) -> None:
        self._portal = portal
        self._directory = directory
        self._stack: list[Any] = []
        self.client: Client | None = None
        self.answers: list[Response] = []

    def start(self, service: Service) -> Client:
        url = f"sqlite+aiosqlite:///{self._directory / f'{service}.db'}"
        running = self._portal.wrap_async_context_manager(serve(service, url))
        self.client = running.__enter__()
        self._stack.append(running)
        return self.client

    def stop(self) -> None:
        while self._stack:
            self._stack.pop().__exit__(None, None, None)

    @property
    def service(self) -> Client:
        assert self.client is not None, "start a service first"
        return self.client


@pytest.fixture
def edge(portal: BlockingPortal, tmp_path: Path) -> Iterator[Edge]:
    world = Edge(portal, tmp_path)
    yield world
    world.stop()


def transfer(source: str, target: str, amount: str) -> dict[str, str]:
    return {"from_account": source, "to_account": target, "amount": amount}


@given("ordering is running")
def ordering_is_running(edge: Edge) -> None:
    edge.start("ordering")


@given(
    parsers.parse(
        'billing is running with "{a}" holding "{a_balance}" and "{b}" holding "{b_balance}"'
    )
)
def billing_is_running(
    run: Run, edge: Edge, a: str, a_balance: str, b: str, b_balance: str
) -> None:
    billing = edge.start("billing")
    for account_id, balance in ((a, a_balance), (b, b_balance)):
        opened = run(billing.post, "/accounts", {"account_id": account_id, "balance": balance})
        assert opened.status_code == 201, opened.text


@when(parsers.parse('a client places an order for "{customer}" with the idempotency key "{key}"'))
def place_order(run: Run, edge: Edge, customer: str, key: str) -> None:
    body = {**ORDER, "customer_id": customer}
    edge.answers.append(run(partial(edge.service.post, "/orders", body, key=key)))


@when(parsers.parse('the client sends the same order again with the idempotency key "{key}"'))
def place_the_same_order_again(run: Run, edge: Edge, key: str) -> None:
    sent = edge.answers[-1].request
    assert sent.headers["Idempotency-Key"] == key
    again = partial(edge.service.http.post, "/orders", content=sent.content, headers=sent.headers)
    edge.answers.append(run(again))


@when(
    parsers.parse(
        '{who} client transfers "{amount}" from "{source}" to "{target}" with the idempotency '
        'key "{key}"'
    )
)
def transfer_with_key(
    run: Run, edge: Edge, who: str, amount: str, source: str, target: str, key: str
) -> None:
    body = transfer(source, target, amount)
    edge.answers.append(run(partial(edge.service.post, "/transfers", body, key=key)))


@when(
    parsers.parse(
        '{copies:d} copies of a transfer of "{amount}" from "{source}" to "{target}" are sent at '
        'once with the idempotency key "{key}"'
    )
)
def transfers_at_once(
    run: Run, edge: Edge, copies: int, amount: str, source: str, target: str, key: str
) -> None:
    body = transfer(source, target, amount)

    async def all_at_once() -> list[Response]:
        sending = [edge.service.post("/transfers", body, key=key) for _ in range(copies)]
        return await asyncio.wait_for(asyncio.gather(*sending), timeout=60)

    edge.answers.extend(run(all_at_once))


@then("both answers are 201 with the same order")
def same_order(edge: Edge) -> None:
    first, second = edge.answers
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["order_id"] == second.json()["order_id"]
    assert first.content == second.content


@then(parsers.parse('the second answer is marked "{header}: {value}"'))
def marked(edge: Edge, header: str, value: str) -> None:
    first, second = edge.answers
    assert second.headers.get(header) == value
    assert header not in first.headers  # the first answer is the real one


@then(parsers.parse("ordering has {count:d} order"))
def ordering_has(run: Run, edge: Edge, count: int) -> None:
    assert len(run(edge.service.get, "/orders").json()) == count


@then("the second answer is 422 and names the Idempotency-Key")
def second_refused(edge: Edge) -> None:
    first, second = edge.answers
    assert first.status_code == 201, first.text
    assert second.status_code == 422, second.text
    assert "Idempotency-Key" in second.json()["detail"]


@then(parsers.parse('"{a}" has "{a_balance}" and "{b}" has "{b_balance}"'))
def balances(run: Run, edge: Edge, a: str, a_balance: str, b: str, b_balance: str) -> None:
    for account_id, balance in ((a, a_balance), (b, b_balance)):
        assert run(edge.service.get, f"/accounts/{account_id}").json()["balance"] == balance


@then("the first transfer can be read back by its id")
def read_back(run: Run, edge: Edge) -> None:
    sent = edge.answers[0].json()
    found = run(edge.service.get, f"/transfers/{sent['transfer_id']}")
    assert found.status_code == 200, found.text
    assert {k: found.json()[k] for k in sent} == sent


@then("every answer is 201 with the same transfer")
def every_answer_the_same(edge: Edge) -> None:
    assert {answer.status_code for answer in edge.answers} == {201}, edge.answers[0].text
    assert len({answer.json()["transfer_id"] for answer in edge.answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") != "true" for answer in edge.answers) == 1
