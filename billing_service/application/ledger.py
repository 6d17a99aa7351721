"""The ledger: every deposit and transfer as a row a client can read back by its id.

A client whose ``POST /transfers`` timed out must be able to ask what happened, so each
money movement gets an id in its response and a ``GET`` of its own. The rows are a read model
(the Q of CQRS, as ordering's order summaries): `LedgerProjection` listens to billing's own
events, in-process and inside the command's unit of work, so a row is never ahead of, or
behind, the balances it describes. Payments and refunds are transfers, so they are here too.
Scenario: features/edge/idempotency.feature. Guide: docs/patterns/idempotency.md.
"""

from __future__ import annotations

from billing_service.application.ports import DepositRecord, TransferRecord, current_uow
from billing_service.domain.events import FundsDeposited, FundsTransferred
from cqrs_ddd_core.domain.events import DomainEvent


class LedgerProjection:
    """Writes a ledger row for each deposit and transfer (register it for both events)."""

    handles: tuple[type[DomainEvent], ...] = (FundsDeposited, FundsTransferred)

    async def handle(self, event: DomainEvent) -> None:
        ledger = current_uow().ledger
        match event:
            case FundsDeposited():
                await ledger.add_deposit(
                    DepositRecord(
                        deposit_id=event.deposit_id,
                        account_id=event.account_id,
                        amount=event.amount,
                        balance=event.balance,
                        deposited_at=event.occurred_at,
                    )
                )
            case FundsTransferred():
                await ledger.add_transfer(
                    TransferRecord(
                        transfer_id=event.transfer_id,
                        from_account=event.from_account,
                        to_account=event.to_account,
                        amount=event.amount,
                        transferred_at=event.occurred_at,
                    )
                )
            case _:
                raise TypeError(f"LedgerProjection does not handle {event.type_name()}")
