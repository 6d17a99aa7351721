"""Scenarios: features/ordering/shipping.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from ordering_service.application.commands import RecordPaymentCommand, ShipOrderCommand
from ordering_service.application.queries import GetOrderQuery
from tests.bdd.ordering.conftest import Story, place_order
from tests.conftest import Run
from tests.services.harness import states

scenarios("ordering/shipping.feature")


@given(parsers.parse('a confirmed order of customer "{customer}"'))
def confirmed_order(run: Run, story: Story, customer: str) -> None:
    place_order(run, story, customer, 1, "book", "10.00")
    confirm = RecordPaymentCommand(order_id=story.order_id, payment_id="payment-1")
    run(story.ordering.mediator.send, confirm)


@when("the order is shipped")
def ship(run: Run, story: Story) -> None:
    story.ordering.units_of_work.clear()
    try:
        run(story.ordering.mediator.send, ShipOrderCommand(order_id=story.order_id))
    except Exception as error:
        story.error = error


@then("the order is SHIPPED with its shipment")
def shipped(run: Run, story: Story) -> None:
    order = run(story.ordering.mediator.send, GetOrderQuery(order_id=story.order_id)).result
    assert order.status == "SHIPPED"
    assert order.shipment_id is not None
    assert story.ordering.store.committed("Shipment", order.shipment_id) is not None


@then("the shipment and the shipped order were committed in one transaction")
def one_commit(story: Story) -> None:
    # Units of work opened while shipping: the root's only (the nested command joined it).
    assert states(story.ordering.units_of_work)[0] == "committed"
    assert len([s for s in states(story.ordering.units_of_work) if s == "committed"]) == 1


@then(parsers.parse('shipping is refused because the order "{reason}"'))
def refused(story: Story, reason: str) -> None:
    assert story.error is not None
    assert reason in str(story.error)


@then("no shipment exists")
def no_shipment(story: Story) -> None:
    assert story.ordering.store.keys("Shipment") == []
