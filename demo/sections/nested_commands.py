"""Section 2: a nested command commits once with its parent.

`ShipOrderCommand`'s handler sends `CreateShipmentCommand`; the nested command joins the root's
unit of work in a SAVEPOINT and only the root commits. The thing to notice is the failing case:
the order refuses to ship after the shipment was written, and no shipment row is left behind -
one SAVEPOINT, no COMMIT - while the successful ship is two commands and one COMMIT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.primitives.exceptions import DomainError
from demo.narration import Narrator
from demo.observers import CommitRecorder
from demo.sections.common import short, sqlite_engine, wait_for_status
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service.application.commands import (
    CreateOrderCommand,
    OrderItem,
    ShipOrderCommand,
)
from ordering_service.infrastructure.tables import shipments


async def nested_commands(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        2,
        "nested",
        "A nested command commits once with its parent",
        code="ordering_service/application/command_handlers.py (ShipOrderHandler)",
        scenario=[
            "features/ordering/shipping.feature",
            "features/core/nested_commands.feature",
        ],
        story=(
            "ShipOrderCommand sends CreateShipmentCommand from inside its handler. The nested "
            "command joins the root's unit of work in a SAVEPOINT; only the root commits. When "
            "the order refuses to ship after the shipment was written, both go."
        ),
    )
    engine = sqlite_engine(stack.ordering.storage.engine)
    recorder = CommitRecorder(engine)
    recorder.install()
    try:
        # An order of a customer without an account: billing will refuse to pay it, so it is
        # never CONFIRMED, and an order ships only once paid.
        unpaid = await stack.ordering.mediator.send(
            CreateOrderCommand(
                customer_id="zoe",
                items=[OrderItem(sku="emma", quantity=1, unit_price=Decimal("9.90"))],
            )
        )
        refused: str | None = None
        with recorder.this_task() as failed:
            try:
                await stack.ordering.mediator.send(ShipOrderCommand(order_id=str(unpaid.result)))
            except DomainError as error:
                refused = str(error)
        narrator.say("Shipping the unpaid order: the shipment is written, then the order refuses:")
        narrator.say(f"[yellow]{refused}[/]")
        left_behind = await _shipments(engine, shipments.c.order_id == str(unpaid.result))
        narrator.check(refused is not None, "the refusal reached the caller")
        narrator.check(
            failed["SAVEPOINT"] == 1 and failed["COMMIT"] == 0,
            f"the nested command ran in a SAVEPOINT and nothing was committed "
            f"({failed['SAVEPOINT']} SAVEPOINT, {failed['COMMIT']} COMMIT)",
        )
        narrator.check(left_behind == 0, "no shipment row was left behind for the unpaid order")

        with narrator.waiting("waiting for billing to pay the first order (section 5 tells how)"):
            status = await wait_for_status(stack, story.first_order, {"CONFIRMED"})
        narrator.check(status == "CONFIRMED", "the first order is paid (CONFIRMED)")
        with recorder.this_task() as shipped:
            response = await stack.ordering.mediator.send(
                ShipOrderCommand(order_id=story.first_order)
            )
    finally:
        recorder.uninstall()
    rows = await _shipments(engine, shipments.c.order_id == story.first_order)
    order = (await stack.ordering_http.get(f"/orders/{story.first_order}")).json()
    logged = stack.commands.of_story(str(response.correlation_id))
    narrator.table(
        "the commands of this ship (as LoggingMiddleware saw them)",
        ["command", "id", "caused by"],
        [[c.name, short(c.command_id), short(c.causation_id)] for c in logged],
    )
    narrator.check(
        shipped["COMMIT"] == 1 and shipped["SAVEPOINT"] == 1,
        f"two commands, one SAVEPOINT, one COMMIT ({shipped['COMMIT']} COMMIT)",
    )
    narrator.check(
        [c.name for c in logged] == ["ShipOrderCommand", "CreateShipmentCommand"]
        and logged[1].causation_id == logged[0].command_id,
        "the nested command was caused by its parent",
    )
    narrator.check(
        rows == 1 and order["status"] == "SHIPPED" and order["shipment_id"] == response.result,
        f"the shipment row and the SHIPPED order committed together "
        f"(shipment {short(str(response.result))})",
    )


async def _shipments(engine: AsyncEngine, condition: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(shipments).where(condition)
        return int((await connection.execute(query)).scalar_one())
