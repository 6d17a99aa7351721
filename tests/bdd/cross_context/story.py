"""`Story`: one cross-context scenario - its deployment, its own account ids, its order.

Shared by the scenarios of order_payment.feature and payment_deadline.feature, with the two
helpers every "eventually" and "the story's messages" step needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.bdd.cross_context.deployment import Carried, Deployment
from tests.conftest import Run


@dataclass
class Story:
    """One scenario: its deployment, its own account ids and the order it placed."""

    deployment: Deployment
    suffix: str
    merchant_opening: Decimal
    accounts: dict[str, str] = field(default_factory=dict)
    order_id: str = ""
    correlation_id: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def account_id(self, name: str) -> str:
        return self.accounts.setdefault(name, f"{name}-{self.suffix}")

    def in_own_names(self, text: str) -> str:
        """``text`` with the feature's account names replaced by this scenario's ids."""
        for name, account_id in self.accounts.items():
            text = text.replace(f"'{name}'", f"'{account_id}'")
        return text


def eventually(run: Run, story: Story, check: Callable[[], Awaitable[bool]], what: str) -> None:
    deployment = story.deployment

    async def wait() -> None:
        async with asyncio.timeout(deployment.patience):
            while not await check():  # noqa: ASYNC110 - the state lives in two services
                await asyncio.sleep(deployment.poll_interval)

    try:
        run(wait)
    except TimeoutError:
        raise AssertionError(
            f"{what} did not happen within {deployment.patience}s ({deployment.name});\n"
            f"{deployment.diagnostics()}"
        ) from None


def story_messages(run: Run, story: Story) -> list[Carried]:
    carried: list[Carried] = run(story.deployment.carried)
    return [message for message in carried if message.payload.get("order_id") == story.order_id]
