"""Section 7: a duplicate delivery absorbed by the inbox.

Relaying is at-least-once, so the same message can arrive twice. Here ada's paid order's
`OrderCreated` is published again with the same message id. The thing to notice: the copy
really travelled - the broker carried the message twice - yet billing's consumer found the id in
its inbox and acknowledged it without handling it: one invoice, and ada paid once.
"""

from __future__ import annotations

from billing_service.consumers import QUEUE_NAME as ORDERS_QUEUE
from demo.narration import Narrator
from demo.sections.common import balance_of, copies_of, wait_until
from demo.sections.story import Story
from demo.stack import Stack


async def duplicate_delivery(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        7,
        "inbox",
        "A duplicate delivery absorbed by the inbox",
        code=[
            "core/cqrs_ddd_core/cqrs/consumers/base.py",
            "core/cqrs_ddd_core/adapters/sqlalchemy/inbox.py",
        ],
        scenario=[
            "features/core/inbox.feature",
            "features/cross_context/order_payment.feature",
        ],
        story=(
            "Relaying is at-least-once: a lost confirm means the same message again. Here "
            "ada's paid order's OrderCreated is published a second time, same message id. "
            "Billing's consumer finds the id in its inbox and acknowledges it with no effect."
        ),
    )
    original = stack.tap.find("OrderCreated", order_id=story.paid_order)[0]
    [consumer] = [c for c in stack.billing.consumers if c.queue_name == ORDERS_QUEUE]
    processed, duplicates = consumer.processed, consumer.duplicates
    balance = await balance_of(stack, "ada")
    await stack.ordering.broker.publisher.publish(
        "OrderCreated",
        original.payload,
        message_id=original.event_id,
        correlation_id=original.correlation_id,
        causation_id=original.causation_id,
    )
    with narrator.waiting("waiting for billing to receive the copy"):
        await wait_until(lambda: consumer.duplicates > duplicates)
        await wait_until(lambda: len(copies_of(stack, original.event_id)) >= 2)
    copies = copies_of(stack, original.event_id)
    invoices = (
        await stack.billing_http.get("/invoices", params={"order_id": story.paid_order})
    ).json()
    narrator.evidence(
        "billing's consumer",
        [
            ("message id", original.event_id),
            ("copies on the broker", str(len(copies))),
            ("processed", f"{processed} -> {consumer.processed}"),
            ("duplicates", f"{duplicates} -> {consumer.duplicates}"),
            ("invoices of the order", str(len(invoices))),
        ],
    )
    narrator.check(len(copies) == 2, "the same message really travelled twice")
    narrator.check(
        consumer.duplicates == duplicates + 1 and consumer.processed == processed,
        "the consumer acknowledged the copy without handling it again",
    )
    narrator.check(len(invoices) == 1, "still one invoice for the order")
    narrator.check(await balance_of(stack, "ada") == balance, "ada paid once")
