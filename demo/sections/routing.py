"""Section 4: routing - integration, notifications, in-process.

Every event class of both services is listed with the destinations its service's route table
(`ROUTES` in each `bootstrap.py`) gives it and the destinations the demo's own queues saw it
on. The thing to notice: `OrderShipped` never left ordering, yet the read model shows the order
SHIPPED - an event without a route still reaches the in-process handlers of the service that
raised it.
"""

from __future__ import annotations

from billing_service import bootstrap as billing_bootstrap
from billing_service.domain import events as billing_events
from cqrs_ddd_core.domain.events import DomainEvent
from demo.narration import Narrator
from demo.sections.common import WAIT, classes_in
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.domain import events as ordering_events


async def routing(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        4,
        "routing",
        "Routing: integration, notifications, in-process",
        code=[
            "core/cqrs_ddd_core/cqrs/publishers/route_table.py",
            "ordering_service/bootstrap.py (ROUTES)",
            "billing_service/bootstrap.py (ROUTES)",
        ],
        scenario="features/core/routing.feature",
        story=(
            "Each service's route table says where an event goes: 'integration' leaves through "
            "the outbox to the other service, 'notifications' goes out under "
            "notifications.<Event> for people, and the rest stays in-process (the read model). "
            "The demo's own queues on the broker saw everything that travelled so far."
        ),
    )
    with narrator.waiting("waiting for the first order's confirmation to be relayed"):
        await stack.tap.wait_for("OrderConfirmed", order_id=story.first_order, timeout=WAIT)
    rows: list[list[str]] = []
    verdicts: list[bool] = []
    for service, event_type in _event_types():
        declared = _routed_to(service, event_type)
        seen = {m.destination for m in stack.tap.seen if m.event_type == event_type.type_name()}
        rows.append([service, event_type.type_name(), declared, ", ".join(sorted(seen)) or "-"])
        if declared == "in-process":
            verdicts.append(not seen)
        elif declared == "notifications":
            verdicts.append("integration" not in seen)
        else:  # integration - billing also tells people about payment results
            verdicts.append(not seen or "integration" in seen)
    narrator.table(
        "every event class, where it is routed, where it was seen",
        ["service", "event", "routed to", "seen on the broker"],
        rows,
    )
    summaries = (await stack.ordering_http.get("/orders", params={"customer_id": "ada"})).json()
    first = next(s for s in summaries if s["order_id"] == story.first_order)
    narrator.check(all(verdicts), "every event travelled exactly where its route table sends it")
    narrator.check(
        {"OrderCreated", "PaymentCaptured"}
        <= {m.event_type for m in stack.tap.seen if m.destination == "integration"},
        "integration events crossed between the services",
    )
    narrator.check(
        first["status"] == "SHIPPED",
        "OrderShipped never left ordering, yet the read model shows SHIPPED (in-process handler)",
    )


def _event_types() -> list[tuple[str, type[DomainEvent]]]:
    return [("ordering", e) for e in classes_in(ordering_events, DomainEvent)] + [
        ("billing", e) for e in classes_in(billing_events, DomainEvent)
    ]


def _routed_to(service: str, event_type: type[DomainEvent]) -> str:
    routes = (ordering_bootstrap if service == "ordering" else billing_bootstrap).ROUTES
    return ", ".join(routes.get(event_type, ())) or "in-process"
