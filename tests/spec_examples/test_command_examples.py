"""docs/reference/messages.md, commands: Basic Command and Command with Locking, as written.

The declarations are the spec's, verbatim; ``OrderItem`` comes from `domain`. The spec's
``items=[...]`` is a placeholder (as Python it is a list holding ``Ellipsis``, which a
``list[OrderItem]`` field rightly refuses), so the usage fills in one item.
"""

from __future__ import annotations

import uuid

import pydantic
import pytest

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.spec_examples.spec_domain import OrderItem

# --- spec: Commands / Basic Command (its import is at the top of this file) ---


class CreateOrderCommand(Command[str]):
    """Command to create order."""

    customer_id: str
    items: list[OrderItem]


# --- spec: Commands / Command with Locking (its import is at the top of this file) ---


class TransferFundsCommand(Command[None]):
    """Transfer with pessimistic locking."""

    from_account: str
    to_account: str
    amount: float

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        """Lock both accounts."""
        return [
            ResourceIdentifier("Account", self.from_account),
            ResourceIdentifier("Account", self.to_account),
        ]


# --- end of the examples ---


def test_a_command_gets_an_auto_generated_uuid(capsys: pytest.CaptureFixture[str]) -> None:
    # Usage, with the spec's `items=[...]` placeholder filled in.
    command = CreateOrderCommand(
        customer_id="cust-123", items=[OrderItem(product_id="prod-456", quantity=2)]
    )
    print(command.command_id)  # Auto-generated UUID

    assert capsys.readouterr().out.strip() == command.command_id
    assert uuid.UUID(command.command_id).version == 4
    other = CreateOrderCommand(customer_id="cust-123", items=[])
    assert other.command_id != command.command_id, "each command gets its own id"


def test_a_command_is_validated_typed_and_immutable() -> None:
    command = CreateOrderCommand(
        customer_id="cust-123", items=[{"product_id": "prod-456", "quantity": "2"}]
    )
    assert command.items == [OrderItem(product_id="prod-456", quantity=2)]
    with pytest.raises(pydantic.ValidationError, match="items"):
        CreateOrderCommand(customer_id="cust-123")  # items is required here, as declared
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        command.customer_id = "someone-else"  # type: ignore[misc]


def test_the_spec_placeholder_items_is_refused_rather_than_stored() -> None:
    with pytest.raises(pydantic.ValidationError, match="items"):
        CreateOrderCommand(customer_id="cust-123", items=[...])  # type: ignore[list-item]


def test_a_command_with_locking_names_both_accounts() -> None:
    command = TransferFundsCommand(from_account="123", to_account="456", amount=100.0)

    assert command.get_critical_resources() == [
        ResourceIdentifier("Account", "123"),
        ResourceIdentifier("Account", "456"),
    ]
    assert [r.key for r in command.get_critical_resources()] == ["Account:123", "Account:456"]


def test_a_plain_command_asks_for_no_locks() -> None:
    command = CreateOrderCommand(customer_id="cust-123", items=[])
    assert command.get_critical_resources() == []
