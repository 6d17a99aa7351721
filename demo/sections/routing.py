"""Section 4: routing - integration, notifications, in-process.

Every event class of both services is listed with the destination its `@route_to` declares and
the destinations the demo's own queues saw it on. The thing to notice: `OrderShipped` never left
ordering, yet the read model shows the order SHIPPED - an event without a route still reaches
the in-process handlers of the service that raised it.
"""

from __future__ import annotations

from billing_service.domain import events as billing_events
from cqrs_ddd_core.cqrs.publishers.decorators import destination_of
from cqrs_ddd_core.domain.events import DomainEvent
from demo.narration import Narrator
from demo.sections.common import WAIT, classes_in
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service.domain import events as ordering_events


async def routing(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        4,
        "routing",
        "Routing: integration, notifications, in-process",
        code=[
            "core/cqrs_ddd_core/cqrs/publishers/ (route_to, routing)",
            "ordering_service/domain/events.py",
            "billing_service/domain/events.py",
        ],
        scenario="features/core/routing.feature",
        story=(
            "An event class says where it goes: @route_to('integration') leaves through the "
            "outbox to the other service, @route_to('notifications') goes out under "
            "notifications.<Event> for people, and the rest stays in-process (the read model). "
            "The demo's own queues on the broker saw everything that travelled so far."
        ),
    )
    with narrator.waiting("waiting for the first order's confirmation to be relayed"):
        await stack.tap.wait_for("OrderConfirmed", order_id=story.first_order, timeout=WAIT)
    rows: list[list[str]] = []
    verdicts: list[bool] = []
    for service, event_type in _event_types():
        declared = destination_of(event_type) or "in-process"
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
        ["service", "event", "@route_to", "seen on the broker"],
        rows,
    )
    summaries = (await stack.ordering_http.get("/orders", params={"customer_id": "ada"})).json()
    first = next(s for s in summaries if s["order_id"] == story.first_order)
    narrator.check(all(verdicts), "every event travelled exactly where its class is routed")
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
