"""Billing's application layer through the real mediator, with the locking middleware and
in-memory storage: transfers, nested payments, and what happens under concurrency."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from billing_service.application.commands import (
    DepositCommand,
    OpenAccountCommand,
    PayInvoiceCommand,
    TransferFundsCommand,
)
from billing_service.application.dtos import InvoiceDTO
from billing_service.application.queries import (
    GetAccountQuery,
    GetDepositQuery,
    GetTransferQuery,
    ListInvoicesQuery,
)
from billing_service.domain.errors import AccountAlreadyExistsError, InsufficientFundsError
from billing_service.domain.events import FundsTransferred, PaymentCaptured, PaymentFailed
from cqrs_ddd_core.primitives.exceptions import NotFoundError
from tests.services.harness import Billing, states

TIMEOUT = 10.0
E = TypeVar("E")


async def open_accounts(billing: Billing, **balances: str) -> None:
    for account_id, balance in balances.items():
        await billing.mediator.send(
            OpenAccountCommand(account_id=account_id, balance=Decimal(balance))
        )
    billing.units_of_work.clear()


async def balance(billing: Billing, account_id: str) -> Decimal:
    response = await billing.mediator.send(GetAccountQuery(account_id=account_id))
    return response.result.balance


async def invoices(billing: Billing, order_id: str) -> list[InvoiceDTO]:
    return (await billing.mediator.send(ListInvoicesQuery(order_id=order_id))).result


def pay(order_id: str, customer: str, amount: str) -> PayInvoiceCommand:
    return PayInvoiceCommand(
        order_id=order_id,
        customer_id=customer,
        amount=Decimal(amount),
        merchant_account="merchant",
    )


def of_type(events: list[Any], event_type: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, event_type)]


class HoldInsideTheLocks:
    """An inner middleware that awaits while the command holds its locks: gives others a turn."""

    async def __call__(self, message: Any, next: Any) -> Any:
        await asyncio.sleep(random.uniform(0, 0.002))
        return await next(message)


async def test_an_account_is_opened_once(billing: Billing) -> None:
    await open_accounts(billing, alice="10")

    with pytest.raises(AccountAlreadyExistsError, match="'alice' already exists"):
        await billing.mediator.send(OpenAccountCommand(account_id="alice"))
    assert await balance(billing, "alice") == Decimal("10.00")


async def test_a_deposit_returns_its_id_and_can_be_read_back_by_it(billing: Billing) -> None:
    await open_accounts(billing, alice="10")

    response = await billing.mediator.send(DepositCommand(account_id="alice", amount="2.50"))

    assert await balance(billing, "alice") == Decimal("12.50")
    query = GetDepositQuery(account_id="alice", deposit_id=response.result)
    deposit = (await billing.mediator.send(query)).result
    assert (deposit.deposit_id, deposit.amount, deposit.balance) == (
        response.result,
        Decimal("2.50"),
        Decimal("12.50"),
    )


async def test_a_deposit_is_not_found_under_another_account(billing: Billing) -> None:
    await open_accounts(billing, alice="10", bob="0")
    response = await billing.mediator.send(DepositCommand(account_id="alice", amount="1"))

    with pytest.raises(NotFoundError, match="Deposit"):
        await billing.mediator.send(GetDepositQuery(account_id="bob", deposit_id=response.result))


async def test_a_transfer_moves_money_between_two_accounts(billing: Billing) -> None:
    await open_accounts(billing, alice="100", bob="0")

    response = await billing.mediator.send(
        TransferFundsCommand(from_account="alice", to_account="bob", amount=Decimal("40"))
    )

    [event] = response.events
    assert isinstance(event, FundsTransferred)
    assert event.transfer_id == response.result
    transfer = (await billing.mediator.send(GetTransferQuery(transfer_id=response.result))).result
    assert (transfer.from_account, transfer.to_account, transfer.amount) == (
        "alice",
        "bob",
        Decimal("40"),
    )
    assert (await balance(billing, "alice"), await balance(billing, "bob")) == (
        Decimal("60.00"),
        Decimal("40.00"),
    )
    assert await billing.locks.get_active_locks() == []  # released once the command ended


async def test_a_transfer_from_an_unknown_account_names_it_and_changes_nothing(
    billing: Billing,
) -> None:
    await open_accounts(billing, bob="5")

    with pytest.raises(NotFoundError, match="'ghost'"):
        await billing.mediator.send(
            TransferFundsCommand(from_account="ghost", to_account="bob", amount=Decimal("1"))
        )
    assert await balance(billing, "bob") == Decimal("5.00")


async def test_paying_an_invoice_moves_the_money_and_captures_the_payment_in_one_commit(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="100", merchant="0")

    response = await billing.mediator.send(pay("order-1", "alice", "59.97"))

    assert states(billing.units_of_work) == ["committed"]
    [captured] = of_type(response.events, PaymentCaptured)
    assert isinstance(captured, PaymentCaptured)
    assert (captured.order_id, captured.amount) == ("order-1", Decimal("59.97"))
    [invoice] = await invoices(billing, "order-1")
    assert (invoice.invoice_id, invoice.status) == (response.result, "PAID")
    assert await balance(billing, "alice") == Decimal("40.03")
    assert await balance(billing, "merchant") == Decimal("59.97")


async def test_insufficient_funds_fail_the_invoice_and_leave_the_balances_untouched(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="10", merchant="0")

    response = await billing.mediator.send(pay("order-1", "alice", "59.97"))

    # The nested transfer raised inside its savepoint; the failed invoice still commits.
    assert states(billing.units_of_work) == ["committed"]
    [failed] = of_type(response.events, PaymentFailed)
    assert isinstance(failed, PaymentFailed)
    assert "Insufficient funds in account 'alice'" in failed.reason
    [invoice] = await invoices(billing, "order-1")
    assert invoice.status == "FAILED"
    assert await balance(billing, "alice") == Decimal("10.00")
    assert await balance(billing, "merchant") == Decimal("0.00")


async def test_a_customer_without_an_account_gets_a_failed_payment_saying_so(
    billing: Billing,
) -> None:
    await open_accounts(billing, merchant="0")

    response = await billing.mediator.send(pay("order-1", "nobody", "5"))

    [failed] = of_type(response.events, PaymentFailed)
    assert isinstance(failed, PaymentFailed)
    assert failed.reason == "Customer account 'nobody' does not exist"
    assert (await invoices(billing, "order-1"))[0].failure_reason == failed.reason


async def test_a_refused_transfer_fails_the_payment_instead_of_retrying_forever(
    billing: Billing,
) -> None:
    # The merchant ordering from itself: the transfer refuses, which must become a failed
    # payment the order hears about - not an error that dead-letters the message.
    await open_accounts(billing, merchant="100")

    response = await billing.mediator.send(pay("order-1", "merchant", "5"))

    [failed] = of_type(response.events, PaymentFailed)
    assert "to itself" in failed.reason
    assert await balance(billing, "merchant") == Decimal("100.00")


async def test_a_missing_merchant_account_is_an_error_not_a_failed_payment(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="100")

    with pytest.raises(NotFoundError, match="'merchant'"):
        await billing.mediator.send(pay("order-1", "alice", "5"))

    assert await invoices(billing, "order-1") == []  # rolled back: the message is retried
    assert await balance(billing, "alice") == Decimal("100.00")


async def test_the_nested_transfer_re_enters_the_lock_its_payment_holds_on_the_debited_account(
    billing: Billing,
) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    held: list[tuple[str, int]] = []

    class ObserveLocks:
        async def __call__(self, message: Any, next: Any) -> Any:
            if isinstance(message, TransferFundsCommand):
                locks = await billing.locks.get_active_locks()
                held.extend(
                    (lock.resource.resource_id, lock.holds)
                    for lock in locks
                    if lock.resource.resource_type == "Account"
                )
            return await next(message)

    billing.middleware.register(ObserveLocks(), priority=20)  # inside the locking middleware

    await asyncio.wait_for(billing.mediator.send(pay("order-1", "alice", "1")), TIMEOUT)

    # The customer's account entered twice, by the payment and by its transfer; the merchant's,
    # only credited, is never held across the command.
    assert held == [("alice", 2)]
    assert await billing.locks.get_active_locks() == []


async def test_opposite_transfers_never_deadlock(billing: Billing) -> None:
    await open_accounts(billing, alice="1000", bob="1000")
    billing.middleware.register(HoldInsideTheLocks(), priority=20)

    async def transfer(source: str, target: str) -> None:
        await billing.mediator.send(
            TransferFundsCommand(from_account=source, to_account=target, amount=Decimal("1"))
        )

    transfers = [transfer("alice", "bob") for _ in range(30)]
    transfers += [transfer("bob", "alice") for _ in range(20)]
    random.shuffle(transfers)
    await asyncio.wait_for(asyncio.gather(*transfers), TIMEOUT)

    # Every transfer committed (no lost update, no version conflict) and no money was made.
    assert await balance(billing, "alice") == Decimal("990.00")
    assert await balance(billing, "bob") == Decimal("1010.00")


async def test_one_order_delivered_twice_at_once_is_paid_once(billing: Billing) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    billing.middleware.register(HoldInsideTheLocks(), priority=20)

    responses = await asyncio.wait_for(
        asyncio.gather(*(billing.mediator.send(pay("order-1", "alice", "30")) for _ in range(3))),
        TIMEOUT,
    )

    assert len({r.result for r in responses}) == 1
    assert len(await invoices(billing, "order-1")) == 1
    assert await balance(billing, "alice") == Decimal("70.00")
    assert sum(1 for r in responses for e in r.events if isinstance(e, PaymentCaptured)) == 1


async def test_concurrent_payments_never_overdraw_an_account(billing: Billing) -> None:
    await open_accounts(billing, alice="100", merchant="0")
    billing.middleware.register(HoldInsideTheLocks(), priority=20)

    responses = await asyncio.wait_for(
        asyncio.gather(
            *(billing.mediator.send(pay(f"order-{i}", "alice", "30")) for i in range(5))
        ),
        TIMEOUT,
    )

    outcomes = sorted(type(r.events[-1]).__name__ for r in responses)
    assert outcomes == ["PaymentCaptured"] * 3 + ["PaymentFailed"] * 2
    assert await balance(billing, "alice") == Decimal("10.00")
    assert await balance(billing, "merchant") == Decimal("90.00")


def test_insufficient_funds_error_is_a_domain_refusal() -> None:
    error = InsufficientFundsError("alice", Decimal("1.00"), Decimal("2.00"))
    assert "deposit first" in str(error)
