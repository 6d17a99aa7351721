"""The walkthrough: every pattern of the repository, shown on the two real services.

One section per pattern, in the order a request meets them: the mediator and its unit of work,
nested commands, locks, routing, the outbox across services, a broker outage, a duplicate, a
poison message, the story's correlation tree, and a payment deadline with its compensation.
Each section (a module of `demo/sections/`) acts on the running services (`demo/stack.py`),
shows what happened, and checks it against real state - the databases, the broker, the HTTP
API - never against what the demo expected to print.

The thing to notice: the order below is the story's order. Later sections build on what earlier
ones left in the `Story` (section 2 ships the order section 1 created, section 7 re-delivers the
order section 5 paid), so a section cannot be moved without moving what it depends on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from demo.narration import Narrator
from demo.sections.broker_outage import broker_outage
from demo.sections.correlation_tree import correlation_tree
from demo.sections.duplicate_delivery import duplicate_delivery
from demo.sections.mediator_and_unit_of_work import mediator_and_unit_of_work
from demo.sections.nested_commands import nested_commands
from demo.sections.open_accounts import open_accounts
from demo.sections.outbox_across_services import outbox_across_services
from demo.sections.payment_deadline import payment_deadline
from demo.sections.poison_message import poison_message
from demo.sections.routing import routing
from demo.sections.story import Story
from demo.sections.transfer_locking import transfer_locking
from demo.stack import Stack

Section = Callable[[Narrator, Stack, Story], Awaitable[None]]

SECTIONS: list[Section] = [
    mediator_and_unit_of_work,  # 1
    nested_commands,  # 2
    transfer_locking,  # 3
    routing,  # 4
    outbox_across_services,  # 5
    broker_outage,  # 6
    duplicate_delivery,  # 7
    poison_message,  # 8
    correlation_tree,  # 9
    payment_deadline,  # 10
]
"""The sections in the order they run; each opens with its own number."""


async def walk(narrator: Narrator, stack: Stack) -> None:
    story = Story()
    await open_accounts(narrator, stack, story)
    for section in SECTIONS:
        await section(narrator, stack, story)
