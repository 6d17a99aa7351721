"""Scenarios: features/ordering/orders.feature."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import parsers, scenarios, then

from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.queries import GetOrderQuery
from ordering_service.domain.events import OrderConfirmed, OrderCreated
from tests.bdd.ordering.conftest import Story
from tests.conftest import Run

scenarios("ordering/orders.feature")


@then(
    parsers.parse('the order was announced to billing as "{event_type}" with a total of "{total}"')
)
def announced(story: Story, event_type: str, total: str) -> None:
    [created] = story.ordering.recorder.of_type(OrderCreated)
    payload = created.to_payload()
    assert (payload["event_type"], payload["order_id"]) == (event_type, story.order_id)
    assert Decimal(payload["total"]) == Decimal(total)
    assert ordering_bootstrap.ROUTES[OrderCreated] == [INTEGRATION], "routed to billing"


@then("the order was confirmed once")
def confirmed_once(story: Story) -> None:
    assert len(story.ordering.recorder.of_type(OrderConfirmed)) == 1


@then(parsers.parse('the order is CANCELLED because "{reason}"'))
def cancelled_because(run: Run, story: Story, reason: str) -> None:
    order = run(story.ordering.mediator.send, GetOrderQuery(order_id=story.order_id)).result
    assert (order.status, order.cancellation_reason) == ("CANCELLED", reason)
