"""Billing's domain events: what happened to accounts and invoices, as plain facts.

The thing to notice is what these classes do *not* say: where they go. Billing's route table
(bootstrap.py) sends the payment results, `PaymentCaptured` and `PaymentFailed`, to ordering
and to the customer, tells the customer of a `PaymentRefunded`; the account and invoice events
stay in-process.
Guide: docs/patterns/routing.md.
"""

from __future__ import annotations

from decimal import Decimal

from cqrs_ddd_core.domain.events import DomainEvent


class AccountOpened(DomainEvent):
    account_id: str
    balance: Decimal


class FundsDeposited(DomainEvent):
    deposit_id: str
    account_id: str
    amount: Decimal
    balance: Decimal


class FundsTransferred(DomainEvent):
    """Money moved between two accounts (recorded on the paying account)."""

    transfer_id: str
    from_account: str
    to_account: str
    amount: Decimal


class InvoiceIssued(DomainEvent):
    invoice_id: str
    order_id: str
    customer_id: str
    amount: Decimal


class PaymentCaptured(DomainEvent):
    """The invoice of ``order_id`` was paid: ordering confirms the order."""

    payment_id: str
    invoice_id: str
    order_id: str
    customer_id: str
    amount: Decimal


class PaymentFailed(DomainEvent):
    """The invoice of ``order_id`` could not be paid, for ``reason``: ordering cancels it."""

    invoice_id: str
    order_id: str
    customer_id: str
    amount: Decimal
    reason: str


class PaymentRefunded(DomainEvent):
    """The payment of ``order_id`` went back to the customer (the order was cancelled)."""

    invoice_id: str
    order_id: str
    customer_id: str
    amount: Decimal
    refund_id: str


class OrderCancellationRecorded(DomainEvent):
    """Ordering cancelled ``order_id`` before billing charged it: it will never be charged."""

    order_id: str
    customer_id: str
    reason: str
