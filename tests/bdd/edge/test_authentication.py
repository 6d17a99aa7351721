"""Scenarios: features/edge/authentication.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.edge.conftest import Edge
from tests.tokens import token

scenarios("edge/authentication.feature")

ANOTHER_SECRET = "a-secret-these-services-have-never-seen-0123456789"


@given(parsers.parse('a token for "{customer}" signed with another secret'))
def foreign_token(edge: Edge, customer: str) -> None:
    edge.token = token(customer, operator=False, secret=ANOTHER_SECRET)


@when(parsers.parse('"{customer}" lists her orders with that token'))
def list_with_token(edge: Edge, customer: str) -> None:
    headers = {"Authorization": f"Bearer {edge.token}"}
    edge.answer = edge.call("ordering", "GET", "/orders", headers=headers)


@when("someone lists the orders without a token")
def list_without_token(edge: Edge) -> None:
    edge.answer = edge.call("ordering", "GET", "/orders")


@then(parsers.parse("the answer is 401 with WWW-Authenticate '{challenge}'"))
def challenged(edge: Edge, challenge: str) -> None:
    assert edge.answer is not None
    assert edge.answer.status_code == 401, edge.answer.text
    assert edge.answer.headers["WWW-Authenticate"] == challenge
    assert edge.answer.json()["status_code"] == 401  # a JSON body, like every other error


@when("someone reads /health and /schema/openapi.json without a token")
def public_routes(edge: Edge) -> None:
    edge.answers = [
        edge.call("ordering", "GET", path) for path in ("/health", "/schema/openapi.json")
    ]


@then("both answer 200")
def both_200(edge: Edge) -> None:
    assert [answer.status_code for answer in edge.answers] == [200, 200]
