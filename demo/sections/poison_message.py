"""Section 8: a poison message dead-lettered with its reason.

An `OrderCreated` whose total is not a number can never be handled. The thing to notice: it is
dead-lettered after one attempt - no retry can fix it, so none is made - with a reason that names
the bad field, and it had no effect on billing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from cqrs_ddd_core.primitives.ids import new_id
from demo.narration import Narrator
from demo.sections.common import wait_until
from demo.sections.story import Story
from demo.stack import BILLING_ORDERS_QUEUE, Stack


async def poison_message(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        8,
        "dead-letter",
        "A poison message dead-lettered with its reason",
        code=[
            "core/cqrs_ddd_core/cqrs/consumers/base.py (hydrate)",
            "core/cqrs_ddd_core/adapters/memory/broker.py",
            "core/cqrs_ddd_core/adapters/rabbitmq/dead_letters.py",
        ],
        scenario="features/core/dead_letters.feature",
        story=(
            "An OrderCreated whose total is not a number can never be handled: billing's "
            "consumer refuses to hydrate it, and the broker moves it to the dead-letter queue "
            "at once - no retries - with the reason, for an operator to read."
        ),
    )
    message_id = new_id()
    bad = {
        "event_type": "OrderCreated",
        "event_id": message_id,
        "aggregate_id": "order-x",
        "order_id": "order-x",
        "customer_id": "ada",
        "total": "a lot",
        "items": [],
    }
    await stack.ordering.broker.publisher.publish("OrderCreated", bad, message_id=message_id)
    with narrator.waiting("waiting for the dead letter"):
        letters = await wait_until(
            lambda: _mine(stack.side.dead_letters(BILLING_ORDERS_QUEUE), message_id)
        )
    letter = letters[0]
    invoices = (await stack.billing_http.get("/invoices", params={"order_id": "order-x"})).json()
    narrator.evidence(
        f"the dead-letter queue of {BILLING_ORDERS_QUEUE}",
        [
            ("message id", str(letter.message_id)),
            ("type", str(letter.event_type)),
            ("attempts", str(letter.attempts)),
            ("reason", letter.reason),
        ],
    )
    narrator.check(len(letters) == 1, "the message is in the dead-letter queue, once")
    narrator.check(letter.attempts == 1, "it was not retried: no retry can fix it")
    narrator.check("total" in letter.reason, "the reason names the bad field (total)")
    narrator.check(invoices == [], "it had no effect: no invoice for order-x")


async def _mine(letters: Awaitable[list[Any]], message_id: str) -> list[Any]:
    return [letter for letter in await letters if letter.message_id == message_id]
