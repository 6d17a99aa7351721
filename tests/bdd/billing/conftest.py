"""Steps shared by billing's scenarios: billing's real mediator, with the locking middleware,
over in-memory storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from pytest_bdd import given, parsers, then

from billing_service.application.commands import OpenAccountCommand
from billing_service.application.queries import GetAccountQuery
from tests.conftest import Run
from tests.services.harness import Billing, billing_harness


@dataclass
class Story:
    billing: Billing = field(default_factory=billing_harness)
    error: Exception | None = None


@pytest.fixture
def story() -> Story:
    return Story()


@given(parsers.parse('account "{account_id}" with "{balance}"'))
def account_with(run: Run, story: Story, account_id: str, balance: str) -> None:
    command = OpenAccountCommand(account_id=account_id, balance=Decimal(balance))
    run(story.billing.mediator.send, command)


@then(parsers.parse('"{account_id}" has "{balance}"'))
def account_has(run: Run, story: Story, account_id: str, balance: str) -> None:
    account = run(story.billing.mediator.send, GetAccountQuery(account_id=account_id)).result
    assert account.balance == Decimal(balance)
