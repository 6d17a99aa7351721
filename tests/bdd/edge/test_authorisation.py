"""Scenarios: features/edge/authorisation.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.edge.conftest import BACK_OFFICE, ITEMS, Edge

scenarios("edge/authorisation.feature")


@when(parsers.parse('"{customer}" transfers "{amount}" from "{source}" to "{target}"'))
def transfer(edge: Edge, customer: str, amount: str, source: str, target: str) -> None:
    body = {"from_account": source, "to_account": target, "amount": amount}
    edge.answer = edge.as_customer(customer, "billing", "POST", "/transfers", json=body)


@then(parsers.parse('"{first}" has "{first_balance}" and "{second}" has "{second_balance}"'))
def balances(edge: Edge, first: str, first_balance: str, second: str, second_balance: str) -> None:
    for account_id, balance in ((first, first_balance), (second, second_balance)):
        read = edge.call("billing", "GET", f"/accounts/{account_id}", headers=BACK_OFFICE)
        assert read.json()["balance"] == balance


@when(parsers.parse('"{customer}" places an order for "{other}"'))
def order_for(edge: Edge, customer: str, other: str) -> None:
    body = {"customer_id": other, "items": ITEMS}
    edge.answer = edge.as_customer(customer, "ordering", "POST", "/orders", json=body)


@then(parsers.parse('"{customer}" has no orders'))
def no_orders(edge: Edge, customer: str) -> None:
    listed = edge.call("ordering", "GET", f"/orders?customer_id={customer}", headers=BACK_OFFICE)
    assert listed.json() == []


@given(parsers.parse('"{customer}" placed an order'))
def placed(edge: Edge, customer: str) -> None:
    body = {"customer_id": customer, "items": ITEMS}
    answer = edge.as_customer(customer, "ordering", "POST", "/orders", json=body)
    assert answer.status_code == 201, answer.text
    edge.order_id = answer.json()["order_id"]


@when(parsers.parse('"{customer}" reads that order'))
def reads_that_order(edge: Edge, customer: str) -> None:
    edge.answer = edge.as_customer(customer, "ordering", "GET", f"/orders/{edge.order_id}")


@then("the answer is 404, word for word the answer for an order that does not exist")
def as_if_missing(edge: Edge) -> None:
    assert edge.answer is not None
    assert edge.order_id is not None
    assert edge.answer.status_code == 404, edge.answer.text
    missing_id = "0" * len(edge.order_id)
    missing = edge.call("ordering", "GET", f"/orders/{missing_id}", headers=BACK_OFFICE)
    assert missing.status_code == 404
    assert edge.answer.json()["detail"] == missing.json()["detail"].replace(
        missing_id, edge.order_id
    )


@then(parsers.parse('"{customer}" lists no orders while "{owner}" lists hers'))
def lists(edge: Edge, customer: str, owner: str) -> None:
    theirs = edge.as_customer(customer, "ordering", "GET", "/orders")
    assert theirs.status_code == 200
    assert theirs.json() == []
    # Asking for the owner's orders by name changes nothing: a customer's list is its own.
    named = edge.as_customer(customer, "ordering", "GET", f"/orders?customer_id={owner}")
    assert named.status_code == 200
    assert named.json() == []
    hers = edge.as_customer(owner, "ordering", "GET", "/orders")
    assert [order["order_id"] for order in hers.json()] == [edge.order_id]


@when(parsers.parse('"{customer}" places an order without naming a customer'))
def order_unnamed(edge: Edge, customer: str) -> None:
    edge.answer = edge.as_customer(customer, "ordering", "POST", "/orders", json={"items": ITEMS})


@then(parsers.parse('the order is "{customer}"\'s'))
def order_is(edge: Edge, customer: str) -> None:
    assert edge.answer is not None
    order_id = edge.answer.json()["order_id"]
    order = edge.as_customer(customer, "ordering", "GET", f"/orders/{order_id}")
    assert order.status_code == 200
    assert order.json()["customer_id"] == customer
