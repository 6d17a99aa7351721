"""Scenarios: features/cross_context/order_payment.feature, in both modes.

The steps are written once, against `Deployment` (deployment.py), and every scenario runs
twice through the `deployment` fixture (conftest.py): ``embedded`` (both services in this
process on one in-memory broker) and ``processes`` (each service its own OS process over the
real RabbitMQ, reached over HTTP). "Eventually" steps poll with the deployment's deadline.

Scenarios stay independent when they share the running services: each one opens accounts of
its own (the feature's "alice" is ``alice-<scenario suffix>``), and the merchant's balance is
read as what it received during the scenario. Guide: docs/architecture.md (the whole story).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.cross_context.deployment import Carried
from tests.bdd.cross_context.story import Story, eventually, story_messages
from tests.conftest import Run

scenarios("cross_context/order_payment.feature")

# Parametrized fixtures reach pytest-bdd's scenario functions only through their closure.
pytestmark = pytest.mark.usefixtures("deployment")

STORY_TOPICS = {
    "OrderCreated",
    "PaymentCaptured",
    "notifications.OrderConfirmed",
    "notifications.PaymentCaptured",
}
"""The messages an order paid and confirmed must have sent, at the least."""


# --- steps ---------------------------------------------------------------------------------


@given("ordering and billing are running")
def running(run: Run, story: Story) -> None:
    # A probe that answers "not yet" on a busy machine (its database check is bounded) is asked
    # again: the scenario waits for ready, as an orchestrator would.
    eventually(run, story, story.deployment.healthy, "both services healthy")


@given(parsers.parse('billing has account "{name}" with "{balance}"'))
def billing_account(run: Run, story: Story, name: str, balance: str) -> None:
    run(story.deployment.open_account, story.account_id(name), Decimal(balance))


@when(parsers.parse('customer "{customer}" orders {quantity:d} "{sku}" at "{price}"'))
def customer_orders(
    run: Run, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    items = [{"sku": sku, "quantity": quantity, "unit_price": price}]
    placed = run(story.deployment.place_order, story.account_id(customer), items)
    story.order_id, story.correlation_id = placed.order_id, placed.correlation_id


@given(
    parsers.parse(
        'customer "{customer}" ordered {quantity:d} "{sku}" at "{price}" and the order was '
        "confirmed"
    )
)
def order_confirmed(
    run: Run, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    customer_orders(run, story, customer, quantity, sku, price)
    order_is_eventually(run, story, "CONFIRMED")


@then(parsers.parse("the order is eventually {status:w}"))
def order_is_eventually(run: Run, story: Story, status: str) -> None:
    async def reached() -> bool:
        order = await story.deployment.order(story.order_id)
        return bool(order["status"] == status)

    eventually(run, story, reached, f"order {story.order_id} {status}")


@then(parsers.parse('the order is eventually CANCELLED because "{reason}"'))
def order_cancelled_because(run: Run, story: Story, reason: str) -> None:
    order_is_eventually(run, story, "CANCELLED")
    cancellation_reason = run(story.deployment.order, story.order_id)["cancellation_reason"]
    assert story.in_own_names(reason) in (cancellation_reason or ""), cancellation_reason


@then(parsers.parse("billing has invoiced the order as {status:w}"))
def invoiced(run: Run, story: Story, status: str) -> None:
    [invoice] = run(story.deployment.invoices, story.order_id)
    total = run(story.deployment.order, story.order_id)["total"]
    assert (invoice["status"], Decimal(invoice["amount"])) == (status, Decimal(total))


@then("billing has exactly one invoice for the order")
def one_invoice(run: Run, story: Story) -> None:
    assert len(run(story.deployment.invoices, story.order_id)) == 1


@then(parsers.parse('"{customer}" has "{balance}" and the merchant has received "{received}"'))
def balances(run: Run, story: Story, customer: str, balance: str, received: str) -> None:
    deployment = story.deployment
    assert run(deployment.balance, story.account_id(customer)) == Decimal(balance)
    merchant = run(deployment.balance, deployment.merchant_account)
    assert merchant - story.merchant_opening == Decimal(received)


@then(
    parsers.parse(
        'the notifications eventually include "{order_event}" and "{payment_event}" for the order'
    )
)
def notified(run: Run, story: Story, order_event: str, payment_event: str) -> None:
    async def told(service: str, event_type: str) -> bool:
        return any(
            notice["event_type"] == event_type and notice["order_id"] == story.order_id
            for notice in await story.deployment.notifications(service)
        )

    async def both() -> bool:
        return await told("ordering", order_event) and await told("billing", payment_event)

    eventually(run, story, both, f"notifications {order_event} and {payment_event}")


@then("every message of the story carries the order's correlation id")
def one_correlation_id(run: Run, story: Story) -> None:
    async def all_sent() -> bool:
        carried = await story.deployment.carried()
        topics = {m.topic for m in carried if m.payload.get("order_id") == story.order_id}
        return topics >= STORY_TOPICS

    eventually(run, story, all_sent, f"the messages {sorted(STORY_TOPICS)}")
    story_so_far = story_messages(run, story)
    [order_created] = [m for m in story_so_far if m.topic == "OrderCreated"]
    # Over HTTP the API does not return it: the first message of the story sets it.
    expected = story.correlation_id or order_created.correlation_id
    assert expected, "OrderCreated carries no correlation id"
    assert {m.correlation_id for m in story_so_far} == {expected}
    assert {m.payload["correlation_id"] for m in story_so_far} == {expected}


@when("the broker delivers the order's OrderCreated message again")
def redeliver(run: Run, story: Story) -> None:
    [original] = [m for m in story_messages(run, story) if m.topic == "OrderCreated"]
    story.facts["original"] = original
    story.facts["duplicates_before"] = run(story.deployment.duplicates_acknowledged, original)
    run(story.deployment.deliver_again, original)


@then("billing recognises the duplicate and acknowledges it without effect")
def duplicate_recognised(run: Run, story: Story) -> None:
    original: Carried = story.facts["original"]
    expected: int = story.facts["duplicates_before"] + 1

    async def acknowledged() -> bool:
        return await story.deployment.duplicates_acknowledged(original) == expected

    eventually(run, story, acknowledged, f"billing acknowledging {original.message_id} again")
    assert run(story.deployment.dead_letters) == []
