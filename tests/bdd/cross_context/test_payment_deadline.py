"""Scenarios: features/cross_context/payment_deadline.feature, in both modes.

``embedded`` is `DeadlineDeployment` (deadlines.py): both services in this process, ordering
on a SQLite file so it can restart and run twice, its clock an `OffsetClock` - "the payment
deadline passes" moves that clock and wakes the schedulers, so no step sleeps for it.
``processes`` is `ProcessesDeadlineDeployment` (deadline_processes.py): the services as OS
processes over RabbitMQ with a 4 s deadline. "Eventually" steps poll with the deployment's
patience either way. Guide: docs/patterns/process-manager.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from deploy.cluster import Cluster
from tests.bdd.cross_context.deadline_processes import (
    ProcessesDeadlineDeployment,
    running_deadline_services,
)
from tests.bdd.cross_context.deadlines import DeadlineDeployment
from tests.bdd.cross_context.deployment import Carried, Deployment
from tests.bdd.cross_context.story import Story, eventually, story_messages
from tests.conftest import Run

scenarios("cross_context/payment_deadline.feature")

# Parametrized fixtures reach pytest-bdd's scenario functions only through their closure.
pytestmark = pytest.mark.usefixtures("deployment")


@pytest.fixture(scope="module")
def deadline_processes(
    rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Billing and two ordering replicas as OS processes, for this module's scenarios."""
    with running_deadline_services(rabbitmq_url, tmp_path_factory.mktemp("deadlines")) as cluster:
        yield cluster


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("processes", marks=[pytest.mark.rabbitmq, pytest.mark.slow]),
    ]
)
def deployment(request: pytest.FixtureRequest, run: Run, tmp_path: Path) -> Iterator[Deployment]:
    """This feature's own two modes (they override the ones of conftest.py)."""
    if request.param == "processes":
        processes = ProcessesDeadlineDeployment(request.getfixturevalue("deadline_processes"))
        try:
            yield processes
        finally:
            run(processes.ensure_running)  # whatever the scenario stopped
        return
    embedded: DeadlineDeployment = run(DeadlineDeployment.start_on, tmp_path)
    try:
        yield embedded
    finally:
        run(embedded.stop)


Deadlines = DeadlineDeployment | ProcessesDeadlineDeployment


def deadlines_of(story: Story) -> Deadlines:
    deployment = story.deployment
    assert isinstance(deployment, DeadlineDeployment | ProcessesDeadlineDeployment), deployment
    return deployment


# --- given -----------------------------------------------------------------------------------


@given("ordering and billing are running, with a payment deadline")
def running(run: Run, story: Story) -> None:
    # A probe that answers "not yet" on a busy machine (its database check is bounded) is asked
    # again: the scenario waits for ready, as an orchestrator would.
    eventually(run, story, story.deployment.healthy, "both services healthy")


@given(parsers.parse('billing has account "{name}" with "{balance}"'))
def billing_account(run: Run, story: Story, name: str, balance: str) -> None:
    run(story.deployment.open_account, story.account_id(name), Decimal(balance))


@given("billing is down")
def billing_down(run: Run, story: Story) -> None:
    run(deadlines_of(story).billing_down)


@given("a second ordering replica is running")
def second_replica(run: Run, story: Story) -> None:
    run(deadlines_of(story).second_replica)


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
        customer = story.account_id(f"customer{n}")
        placed = run(deployment.place_order_through, n, customer, items)
        order_ids.append(placed.order_id)
    story.facts["orders"] = order_ids


@when("the payment deadline passes")
def deadline_passes(run: Run, story: Story) -> None:
    run(deadlines_of(story).deadline_passes)


@when("ordering stops")
def ordering_stops(run: Run, story: Story) -> None:
    run(deadlines_of(story).stop_ordering)


@when("ordering starts again")
def ordering_starts(run: Run, story: Story) -> None:
    run(deadlines_of(story).start_ordering)


@when("billing comes back and hears of the cancellation before the order")
def cancellation_first(run: Run, story: Story) -> None:
    run(deadlines_of(story).billing_back_cancellation_first, story.order_id)


@when("billing comes back and takes the order before it hears of the cancellation")
def order_first(run: Run, story: Story) -> None:
    run(deadlines_of(story).billing_back_order_first, story.order_id)


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


def firings_settled(run: Run, story: Story, order_ids: list[str]) -> None:
    """Wait until each order's deadline is marked fired and its firing logged.

    The firing cancels the order in a transaction of its own; the scheduler marks the deadline
    fired in the next one and logs it after that. So a step that saw the cancellation (or its
    OrderCancelled on the broker) waits for the mark before it counts: a fired deadline is
    never claimed again, so the count read then is final.
    """
    deployment = deadlines_of(story)

    async def settled() -> bool:
        for order_id in order_ids:
            if deployment.firings(order_id) < 1:
                return False
            if await deployment.deadline_statuses(order_id) != ["fired"]:
                return False
        return True

    eventually(run, story, settled, f"the deadlines of {order_ids} marked fired and logged")


@then("the order's deadline fired exactly once")
def fired_once(run: Run, story: Story) -> None:
    firings_settled(run, story, [story.order_id])
    assert deadlines_of(story).firings(story.order_id) == 1


@then("each order's deadline fired exactly once, and one OrderCancelled left per order")
def each_fired_once(run: Run, story: Story) -> None:
    deployment = deadlines_of(story)
    orders: list[str] = story.facts["orders"]

    def cancellations(carried: list[Carried]) -> Counter[str]:
        """OrderCancelled messages per order of this scenario (the services may be shared)."""
        return Counter(
            m.payload["order_id"]
            for m in carried
            if m.topic == "OrderCancelled" and m.payload["order_id"] in orders
        )

    async def all_relayed() -> bool:
        return set(cancellations(await deployment.carried())) >= set(orders)

    eventually(run, story, all_relayed, "an OrderCancelled relayed for every order")
    firings_settled(run, story, orders)
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
    # The first copy: a scenario that held the message back published it once more.
    created = next(m for m in messages if m.topic == "OrderCreated")
    # Over HTTP the API does not return it: the first message of the story sets it.
    expected = story.correlation_id or created.correlation_id
    assert expected, "OrderCreated carries no correlation id"
    assert {m.correlation_id for m in messages} == {expected}
    assert {m.payload["correlation_id"] for m in messages} == {expected}
    assert all(m.payload["causation_id"] for m in messages), [m.payload for m in messages]
