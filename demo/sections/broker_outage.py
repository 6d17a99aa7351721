"""Section 6: a broker failure, retried from the outbox, and nothing lost.

An order is created while the broker refuses `OrderCreated`. The thing to notice: the order
commits anyway, and its outbox row stays - marked failed, its attempts and last error recorded -
until the broker is back; then that same row is published, once, and the order completes.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus
from demo.narration import Narrator
from demo.sections.common import WAIT, copies_of, wait_for_status
from demo.sections.story import Story
from demo.stack import Stack
from ordering_service.application.commands import CreateOrderCommand, OrderItem


async def broker_outage(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        6,
        "broker-failure",
        "A broker failure, retried from the outbox, nothing lost",
        code=[
            "core/cqrs_ddd_core/cqrs/outbox/service.py",
            "core/cqrs_ddd_core/cqrs/outbox/buffered.py",
        ],
        scenario="features/core/outbox.feature (A broker outage loses nothing)",
        story=(
            "The order commits with its outbox row whatever the broker does. While the broker "
            "refuses, the relay marks the row failed and retries with back-off; once the broker "
            "is back, the row goes out and the order completes."
        ),
    )
    storage = stack.ordering.outbox.storage
    async with stack.side.refuse_order_created() as how:
        narrator.say(f"broker broken: [yellow]{how}[/]")
        response = await stack.ordering.mediator.send(
            CreateOrderCommand(
                customer_id="ada",
                items=[OrderItem(sku="ulysses", quantity=1, unit_price=Decimal("10.00"))],
            )
        )
        order_id = str(response.result)
        event_id = response.events[0].event_id
        with narrator.waiting("the relay tries while the broker refuses"):
            async with asyncio.timeout(WAIT):
                while not _refused_twice(row := await storage.get(event_id)):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
        assert row is not None  # _refused_twice said so
        narrator.evidence(
            "the outbox row while the broker is down",
            [
                ("status", str(row.status)),
                ("attempts", str(row.attempts)),
                ("last error", str(row.last_error)),
            ],
        )
    narrator.say("broker back")
    with narrator.waiting("waiting for the order to complete"):
        status = await wait_for_status(stack, order_id, {"CONFIRMED", "CANCELLED"})
    # The relay marks the row once the broker confirmed it, which can come after the order's
    # round trip: wait for the mark, and show whatever it is if it never comes.
    final = await _row_when_published(storage, event_id)
    delivered = copies_of(stack, event_id)
    invoices = (await stack.billing_http.get("/invoices", params={"order_id": order_id})).json()
    narrator.evidence(
        "afterwards",
        [
            (
                "outbox row",
                f"{final.status} after {final.attempts} attempts" if final else "missing",
            ),
            ("order", status),
            ("copies on the broker", str(len(delivered))),
        ],
    )
    narrator.check(
        _refused_twice(row), "while the broker refused, the row was kept and its failures recorded"
    )
    narrator.check(
        final is not None and final.status == OutboxStatus.PUBLISHED,
        "once the broker was back, the same row was published",
    )
    narrator.check(
        status == "CONFIRMED" and len(invoices) == 1 and invoices[0]["status"] == "PAID",
        "nothing was lost: billing paid the order and ordering confirmed it",
    )
    narrator.check(len(delivered) == 1, "the broker carried the message once")


def _refused_twice(row: OutboxMessage | None) -> bool:
    return (
        row is not None
        and row.status == OutboxStatus.FAILED
        and row.attempts >= 2
        and bool(row.last_error)
    )


async def _row_when_published(storage: IOutboxStorage, event_id: str) -> OutboxMessage | None:
    """The outbox row once it is published; as it is after `WAIT` seconds if it never is."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        row = await storage.get(event_id)
        published = row is not None and row.status == OutboxStatus.PUBLISHED
        if published or asyncio.get_running_loop().time() > deadline:
            return row
        await asyncio.sleep(0.01)
