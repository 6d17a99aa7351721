"""Section 1: the mediator and the unit of work.

One `CreateOrderCommand` sent through ordering's mediator: the middleware runs around the
handler, the in-process read model sees `OrderCreated`, and one unit of work commits it all. The
thing to notice: the order row, its summary row and the outbox row of `OrderCreated` are written
by one COMMIT - counted from the statements the database really received - so there is no moment
at which the order exists but its event could be lost.
"""

from __future__ import annotations

from decimal import Decimal

from demo.narration import Narrator
from demo.observers import CommitRecorder
from demo.sections.common import sqlite_engine
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service.application.commands import CreateOrderCommand, OrderItem


async def mediator_and_unit_of_work(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        1,
        "mediator",
        "The mediator and the unit of work",
        code=[
            "core/cqrs_ddd_core/cqrs/mediator.py",
            "ordering_service/application/command_handlers.py",
        ],
        scenario=[
            "features/core/mediator.feature",
            "features/core/unit_of_work.feature",
        ],
        story=(
            "ordering.mediator.send(CreateOrderCommand) opens one unit of work, runs the "
            "handler through the middleware (logging, outbox), lets the in-process read model "
            "see OrderCreated, and commits once: the order row, its summary row and the "
            "outbox row of OrderCreated in one transaction."
        ),
    )
    engine = sqlite_engine(stack.ordering.storage.engine)
    recorder = CommitRecorder(engine)
    recorder.install()
    try:
        command = CreateOrderCommand(
            customer_id="ada",
            items=[OrderItem(sku="dune", quantity=2, unit_price=Decimal("12.50"))],
        )
        with recorder.this_task() as statements:
            response = await stack.ordering.mediator.send(command)
    finally:
        recorder.uninstall()
    order_id = str(response.result)
    story.first_order = order_id
    story.first_correlation = str(response.correlation_id)
    event = response.events[0]
    row = await stack.ordering.outbox.storage.get(event.event_id)
    order = await stack.ordering_http.get(f"/orders/{order_id}")
    summaries = await stack.ordering_http.get("/orders", params={"customer_id": "ada"})
    narrator.evidence(
        "the CommandResponse",
        [
            ("result (order id)", order_id),
            ("events", ", ".join(e.type_name() for e in response.events)),
            ("correlation_id", str(response.correlation_id)),
            ("causation_id", f"{response.causation_id}  (the command's own id)"),
            ("SQL statements", f"{statements['COMMIT']} COMMIT on ordering.db by this command"),
            ("outbox row", f"{row.topic if row else None}, status {row.status if row else '-'}"),
        ],
    )
    narrator.check(
        response.success and order.status_code == 200, "the order exists: GET /orders/{id} is 200"
    )
    narrator.check(
        [e.type_name() for e in response.events] == ["OrderCreated"],
        "the response carries the OrderCreated event",
    )
    narrator.check(statements["COMMIT"] == 1, "one COMMIT for the whole command")
    narrator.check(
        row is not None
        and row.topic == "OrderCreated"
        and row.correlation_id == response.correlation_id,
        "the event's outbox row was committed with the order, in the story's correlation",
    )
    narrator.check(
        any(s["order_id"] == order_id for s in summaries.json()),
        "the read model has the order's summary (GET /orders reads summaries, not orders)",
    )
