"""`transfer_funds`: a domain service - one rule that spans two `Account` aggregates.

Both balances change or neither does: the debit (which may refuse) runs before the credit.
That the two rows are written together, and that nobody else touches either account in
between, is the application's job (`TransferFundsCommand` locks the source account, and its
handler takes both rows with the transaction's own row lock).
Scenario: features/billing/transfers.feature.
"""

from __future__ import annotations

from decimal import Decimal

from billing_service.domain.account import Account
from billing_service.domain.events import FundsTransferred
from billing_service.domain.money import to_money
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.ids import new_id


def transfer_funds(source: Account, destination: Account, amount: Decimal) -> str:
    """Move ``amount`` from ``source`` to ``destination``; returns the transfer id."""
    if source.id == destination.id:
        raise DomainError(f"Cannot transfer from account {source.id!r} to itself")
    amount = to_money(amount)  # the event says 3.00, as the balances do, whatever came in
    source.debit(amount)
    destination.credit(amount)
    transfer_id = new_id()
    source.add_event(
        FundsTransferred(
            aggregate_id=source.id,
            transfer_id=transfer_id,
            from_account=source.id,
            to_account=destination.id,
            amount=amount,
        )
    )
    return transfer_id
