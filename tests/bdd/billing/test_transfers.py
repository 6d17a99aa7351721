"""Scenarios: features/billing/transfers.feature."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

from pytest_bdd import parsers, scenarios, then, when

from billing_service.application.commands import TransferFundsCommand
from tests.bdd.billing.conftest import Story
from tests.conftest import Run

scenarios("billing/transfers.feature")

DEADLINE = 10.0
"""A deadlock would hang: the scenario fails after this many seconds instead."""


class AwaitInsideTheLocks:
    """Registered inside the locking middleware: each transfer yields while holding its locks."""

    async def __call__(self, message: Any, next: Any) -> Any:
        await asyncio.sleep(random.uniform(0, 0.002))
        return await next(message)


@when(parsers.parse('"{source}" transfers "{amount}" to "{target}"'))
def transfer(run: Run, story: Story, source: str, amount: str, target: str) -> None:
    command = TransferFundsCommand(from_account=source, to_account=target, amount=Decimal(amount))
    try:
        run(story.billing.mediator.send, command)
    except Exception as error:
        story.error = error


@then(parsers.parse('the transfer is refused with "{reason}"'))
def refused(story: Story, reason: str) -> None:
    assert story.error is not None
    assert reason in str(story.error)


@when(
    parsers.parse(
        '{forward:d} transfers of "{amount}" from "{a}" to "{b}" and {backward:d} from "{b2}" '
        'to "{a2}" run at once, each awaiting while it holds its locks'
    )
)
def opposite_transfers(
    run: Run,
    story: Story,
    forward: int,
    amount: str,
    a: str,
    b: str,
    backward: int,
    b2: str,
    a2: str,
) -> None:
    story.billing.middleware.register(AwaitInsideTheLocks(), priority=20)
    commands = [
        TransferFundsCommand(from_account=a, to_account=b, amount=Decimal(amount))
        for _ in range(forward)
    ] + [
        TransferFundsCommand(from_account=b2, to_account=a2, amount=Decimal(amount))
        for _ in range(backward)
    ]
    random.shuffle(commands)

    async def all_at_once() -> None:
        sends = (story.billing.mediator.send(command) for command in commands)
        await asyncio.wait_for(asyncio.gather(*sends), DEADLINE)

    try:
        run(all_at_once)
    except Exception as error:
        story.error = error


@then("every transfer completed")
def all_completed(story: Story) -> None:
    assert story.error is None, f"transfers did not all complete: {story.error!r}"
