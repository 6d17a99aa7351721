"""Billing's aggregates on their own: balances that never go negative, transfers, invoices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_service.domain.account import Account
from billing_service.domain.errors import InsufficientFundsError
from billing_service.domain.events import (
    AccountOpened,
    FundsTransferred,
    InvoiceIssued,
    PaymentCaptured,
    PaymentFailed,
)
from billing_service.domain.invoice import Invoice, InvoiceStatus
from billing_service.domain.transfer import transfer_funds
from cqrs_ddd_core.primitives.exceptions import DomainError


def test_an_account_opens_with_its_balance() -> None:
    account = Account.open("alice", Decimal("100"))

    assert account.balance == Decimal("100.00")
    [event] = account.clear_events()
    assert isinstance(event, AccountOpened)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Account.open("alice", Decimal("-1")), "cannot be negative"),
        (lambda: Account.open("", Decimal("1")), "account_id"),
        (lambda: Account.open("alice", Decimal("1.001")), "fractions of a cent"),
        (lambda: Account.open("alice").deposit(Decimal("0")), "must be positive"),
        (lambda: Account.open("alice").deposit(Decimal("-5")), "must be positive"),
    ],
)
def test_invalid_money_is_refused_with_a_reason(make: object, words: str) -> None:
    with pytest.raises(DomainError, match=words):
        make()  # type: ignore[operator]


def test_a_deposit_adds_to_the_balance_exactly() -> None:
    account = Account.open("alice", Decimal("0.10"))

    account.deposit(Decimal("0.20"))

    assert account.balance == Decimal("0.30")


def test_a_transfer_moves_money_and_records_funds_transferred() -> None:
    alice, bob = Account.open("alice", Decimal("100")), Account.open("bob", Decimal("5"))
    alice.clear_events()
    bob.clear_events()

    transfer_id = transfer_funds(alice, bob, Decimal("30.50"))

    assert (alice.balance, bob.balance) == (Decimal("69.50"), Decimal("35.50"))
    [event] = alice.clear_events()
    assert isinstance(event, FundsTransferred)
    assert (event.transfer_id, event.from_account, event.to_account, event.amount) == (
        transfer_id,
        "alice",
        "bob",
        Decimal("30.50"),
    )


def test_a_transfer_beyond_the_balance_is_refused_and_changes_neither_account() -> None:
    alice, bob = Account.open("alice", Decimal("10")), Account.open("bob", Decimal("5"))

    with pytest.raises(InsufficientFundsError, match=r"alice.*balance 10\.00, needs 10\.01"):
        transfer_funds(alice, bob, Decimal("10.01"))

    assert (alice.balance, bob.balance) == (Decimal("10.00"), Decimal("5.00"))


def test_a_transfer_to_the_same_account_is_refused() -> None:
    alice = Account.open("alice", Decimal("10"))

    with pytest.raises(DomainError, match="to itself"):
        transfer_funds(alice, alice, Decimal("1"))


def test_an_issued_invoice_is_paid_and_records_payment_captured() -> None:
    invoice = Invoice.issue("order-1", "alice", Decimal("59.97"))
    assert isinstance(invoice.clear_events()[0], InvoiceIssued)

    invoice.mark_paid("transfer-1")

    assert invoice.status is InvoiceStatus.PAID
    [event] = invoice.clear_events()
    assert isinstance(event, PaymentCaptured)
    assert (event.order_id, event.payment_id, event.amount) == (
        "order-1",
        "transfer-1",
        Decimal("59.97"),
    )


def test_an_issued_invoice_fails_with_a_reason_and_records_payment_failed() -> None:
    invoice = Invoice.issue("order-1", "alice", Decimal("59.97"))
    invoice.clear_events()

    invoice.mark_failed("Insufficient funds")

    assert (invoice.status, invoice.failure_reason) == (InvoiceStatus.FAILED, "Insufficient funds")
    [event] = invoice.clear_events()
    assert isinstance(event, PaymentFailed)
    assert event.reason == "Insufficient funds"


def test_an_invoice_is_settled_once() -> None:
    invoice = Invoice.issue("order-1", "alice", Decimal("1"))
    invoice.mark_paid("transfer-1")

    with pytest.raises(DomainError, match="already PAID"):
        invoice.mark_failed("late")
    with pytest.raises(DomainError, match="already PAID"):
        invoice.mark_paid("transfer-2")
    assert invoice.payment_id == "transfer-1"
