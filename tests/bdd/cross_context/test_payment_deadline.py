"""Scenarios: features/cross_context/payment_deadline.feature (embedded, on a moved clock).

The deployment is `DeadlineDeployment` (deadlines.py): both services in this process, ordering
on a SQLite file so it can restart and run twice, its clock an `OffsetClock`. "31 seconds
pass" moves that clock and wakes the schedulers - no step sleeps for the deadline, so the
scenarios take the same time on an idle machine and on a busy one; "eventually" steps poll
with the deployment's patience. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.cross_context.deadlines import PAYMENT_TIMEOUT, DeadlineDeployment
from tests.bdd.cross_context.deployment import Carried, Deployment
from tests.bdd.cross_context.story import Story, eventually, story_messages
from tests.conftest import Run

scenarios("cross_context/payment_deadline.feature")


@pytest.fixture
def deployment(run: Run, tmp_path: Path) -> Iterator[Deployment]:
    """This feature's own deployment (overrides the two-mode one of conftest.py)."""
    deadlines: DeadlineDeployment = run(DeadlineDeployment.start_on, tmp_path)
    try:
        yield deadlines
    finally:
        run(deadlines.stop)


def deadlines_of(story: Story) -> DeadlineDeployment:
    deployment = story.deployment
    assert isinstance(deployment, DeadlineDeployment), deployment
    return deployment


# --- given -----------------------------------------------------------------------------------


@given(
    parsers.parse(
        "ordering and billing are running, with a payment deadline of {seconds:d} seconds"
    )
)
def running(run: Run, story: Story, seconds: int) -> None:
    assert seconds == PAYMENT_TIMEOUT
    assert run(story.deployment.healthy), story.deployment.diagnostics()


@given(parsers.parse('billing has account "{name}" with "{balance}"'))
def billing_account(run: Run, story: Story, name: str, balance: str) -> None:
    run(story.deployment.open_account, story.account_id(name), Decimal(balance))


@given("billing is down")
def billing_down(run: Run, story: Story) -> None:
    run(deadlines_of(story).billing_down)


@given("a second ordering replica is running")
def second_replica(run: Run, story: Story) -> None:
    run(deadlines_of(story).start_ordering)
    assert len(deadlines_of(story).orderings) == 2


# --- when ------------------------------------------------------------------------------------


@when(parsers.parse('customer "{customer}" orders {quantity:d} "{sku}" at "{price}"'))
def customer_orders(
    run: Run, story: Story, customer: str, quantity: int, sku: str, price: str
) -> None:
    items = [{"sku": sku, "quantity": quantity, "unit_price": price}]
    placed = run(story.deployment.place_order, story.account_id(customer), items)
    story.order_id, story.correlation_id = placed.order_id, placed.correlation_id


@when(parsers.parse("customers place {count:d} orders"))
def many_orders(run: Run, story: Story, count: int) -> None:
    deployment = deadlines_of(story)
    items = [{"sku": "book", "quantity": 1, "unit_price": "5.00"}]
    order_ids = []
    for n in range(count):
        # Through each replica in turn: either may place an order, either may time it out.
        deployment.ordering = deployment.orderings[n % len(deployment.orderings)]
        placed = run(deployment.place_order, story.account_id(f"customer{n}"), items)
        order_ids.append(placed.order_id)
    story.facts["orders"] = order_ids


@when(parsers.parse("{seconds:d} seconds pass"))
def seconds_pass(run: Run, story: Story, seconds: int) -> None:
    run(deadlines_of(story).pass_time, float(seconds))


@when("ordering stops")
def ordering_stops(run: Run, story: Story) -> None:
    run(deadlines_of(story).stop_ordering)


@when("ordering starts again")
def ordering_starts(run: Run, story: Story) -> None:
    run(deadlines_of(story).start_ordering)


@when("billing comes back and hears of the cancellation before the order")
def cancellation_first(run: Run, story: Story) -> None:
    deployment = deadlines_of(story)
    run(deployment.billing_consumes, "cancellations")

    async def recorded() -> bool:
        return await deployment.cancellation_recorded(story.order_id)

    eventually(run, story, recorded, "billing recording the cancellation")
    orders = run(deployment.billing_consumes, "orders")

    async def order_handled() -> bool:
        return orders.processed >= 1

    eventually(run, story, order_handled, "billing handling the late OrderCreated")


@when("billing comes back and takes the order before it hears of the cancellation")
def order_first(run: Run, story: Story) -> None:
    deployment = deadlines_of(story)
    run(deployment.billing_consumes, "orders")

    async def paid() -> bool:
        invoices = await deployment.invoices(story.order_id)
        return [i["status"] for i in invoices] == ["PAID"]

    eventually(run, story, paid, "billing charging the order")
    run(deployment.billing_consumes, "cancellations")


# --- then ------------------------------------------------------------------------------------


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
    assert reason in (cancellation_reason or ""), cancellation_reason


@then(parsers.parse('every order is eventually CANCELLED because "{reason}"'))
def every_order_cancelled(run: Run, story: Story, reason: str) -> None:
    for order_id in story.facts["orders"]:
        story.order_id = order_id
        order_cancelled_because(run, story, reason)


@then(parsers.parse("the order is still {status:w}"))
def order_still(run: Run, story: Story, status: str) -> None:
    assert run(story.deployment.order, story.order_id)["status"] == status


@then("billing has recorded the cancellation and has no invoice for the order")
def no_invoice(run: Run, story: Story) -> None:
    assert run(deadlines_of(story).cancellation_recorded, story.order_id)
    assert run(story.deployment.invoices, story.order_id) == []


@then(parsers.parse("billing has eventually invoiced the order as {status:w}"))
def invoiced_eventually(run: Run, story: Story, status: str) -> None:
    async def reached() -> bool:
        invoices = await story.deployment.invoices(story.order_id)
        return [i["status"] for i in invoices] == [status]

    eventually(run, story, reached, f"the invoice of {story.order_id} {status}")


@then(parsers.parse('"{customer}" has "{balance}" and the merchant has received "{received}"'))
def balances(run: Run, story: Story, customer: str, balance: str, received: str) -> None:
    deployment = story.deployment
    assert run(deployment.balance, story.account_id(customer)) == Decimal(balance)
    merchant = run(deployment.balance, deployment.merchant_account)
    assert merchant - story.merchant_opening == Decimal(received)


@then("the customer was refunded exactly once")
def refunded_once(run: Run, story: Story) -> None:
    async def told() -> bool:
        notices = await story.deployment.notifications("billing")
        return any(n["event_type"] == "PaymentRefunded" for n in notices)

    eventually(run, story, told, "the PaymentRefunded notification")
    run(story.deployment.carried)  # every queue that is consumed is idle now
    notices = run(story.deployment.notifications, "billing")
    refunds = [
        n
        for n in notices
        if n["event_type"] == "PaymentRefunded" and n["order_id"] == story.order_id
    ]
    assert len(refunds) == 1, refunds
    requests = [m for m in story_messages(run, story) if m.topic == "RefundRequested"]
    assert len(requests) == 1, requests


@then("the order's deadline fired exactly once")
def fired_once(run: Run, story: Story) -> None:
    assert deadlines_of(story).firings(story.order_id) == 1
    assert run(deadlines_of(story).deadline_statuses, story.order_id) == ["fired"]


@then("each order's deadline fired exactly once, and one OrderCancelled left per order")
def each_fired_once(run: Run, story: Story) -> None:
    deployment = deadlines_of(story)
    orders: list[str] = story.facts["orders"]

    def cancellations(carried: list[Carried]) -> Counter[str]:
        return Counter(m.payload["order_id"] for m in carried if m.topic == "OrderCancelled")

    async def all_relayed() -> bool:
        return set(cancellations(await deployment.carried())) >= set(orders)

    eventually(run, story, all_relayed, "an OrderCancelled relayed for every order")
    assert [deployment.firings(order_id) for order_id in orders] == [1] * len(orders)
    assert cancellations(run(deployment.carried)) == Counter(orders)


@then("the order's deadline was cancelled and never fired")
def deadline_cancelled(run: Run, story: Story) -> None:
    deployment = deadlines_of(story)
    assert run(deployment.deadline_statuses, story.order_id) == ["cancelled"]
    assert deployment.firings(story.order_id) == 0
    carried = run(deployment.carried)
    assert not [m for m in carried if m.topic == "OrderCancelled"]


@then("every message of the story carries the order's correlation id and a causation id")
def story_ids(run: Run, story: Story) -> None:
    async def relayed() -> bool:
        carried = await story.deployment.carried()
        topics = {m.topic for m in carried if m.payload.get("order_id") == story.order_id}
        return {"OrderCreated", "OrderCancelled"} <= topics

    eventually(run, story, relayed, "OrderCreated and OrderCancelled on the broker")
    messages = story_messages(run, story)
    assert {m.correlation_id for m in messages} == {story.correlation_id}
    assert {m.payload["correlation_id"] for m in messages} == {story.correlation_id}
    assert all(m.payload["causation_id"] for m in messages), [m.payload for m in messages]
