"""Billing's command handlers.

The one to read is `PayInvoiceHandler`: it issues the invoice, sends `TransferFundsCommand`
nested, and turns the two refusals a customer can cause (insufficient funds, no account) into
a FAILED invoice with `PaymentFailed`. The mediator ran the transfer in a savepoint, so when it
raises its writes are already undone - the balances stay untouched - while the failed invoice
and its event still commit. Any other error (a lock timeout, a conflict) escapes and rolls the
whole command back, so the message is retried.
Scenarios: features/billing/payments.feature. Guide: docs/patterns/nested-commands.md.
"""

from __future__ import annotations

from billing_service.application.commands import (
    DepositCommand,
    OpenAccountCommand,
    PayInvoiceCommand,
    RecordOrderCancelledCommand,
    RefundPaymentCommand,
    TransferFundsCommand,
)
from billing_service.application.ports import current_uow
from billing_service.domain.account import Account
from billing_service.domain.cancelled_order import CancelledOrder
from billing_service.domain.errors import AccountAlreadyExistsError
from billing_service.domain.invoice import Invoice, InvoiceStatus
from billing_service.domain.transfer import transfer_funds
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.primitives.exceptions import DomainError, NotFoundError


class OpenAccountHandler(CommandHandler[str]):
    async def handle(self, command: OpenAccountCommand) -> CommandResponse[str]:
        accounts = current_uow().accounts
        if await accounts.find(command.account_id) is not None:
            raise AccountAlreadyExistsError(command.account_id)
        account = Account.open(command.account_id, command.balance)
        await accounts.add(account)
        return CommandResponse(result=account.id, events=account.clear_events())


class DepositHandler(CommandHandler[str]):
    async def handle(self, command: DepositCommand) -> CommandResponse[str]:
        accounts = current_uow().accounts
        account = await accounts.get_for_update(command.account_id)
        deposit_id = account.deposit(command.amount)
        await accounts.save(account)
        return CommandResponse(result=deposit_id, events=account.clear_events())


class TransferFundsHandler(CommandHandler[str]):
    """The source account is locked by now (the command's critical resource); both rows are
    read with the transaction's own row lock, in id order, so two transactions that write the
    same two accounts take their row locks in one order and never wait for each other."""

    async def handle(self, command: TransferFundsCommand) -> CommandResponse[str]:
        accounts = current_uow().accounts
        loaded = {
            account_id: await accounts.get_for_update(account_id)
            for account_id in sorted({command.from_account, command.to_account})
        }
        source, destination = loaded[command.from_account], loaded[command.to_account]
        transfer_id = transfer_funds(source, destination, command.amount)
        await accounts.save(source)
        await accounts.save(destination)
        events: list[DomainEvent] = [*source.clear_events(), *destination.clear_events()]
        return CommandResponse(result=transfer_id, events=events)


class PayInvoiceHandler(CommandHandler[str | None]):
    """Issues the order's invoice and pays it with a nested transfer, once per order."""

    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, command: PayInvoiceCommand) -> CommandResponse[str | None]:
        uow = current_uow()
        invoices = uow.invoices
        existing = await invoices.find_by_order(command.order_id)
        if existing is not None:
            return CommandResponse(result=existing.id)  # delivered twice: paid (or not) once
        if await uow.cancelled_orders.find(command.order_id) is not None:
            return CommandResponse(result=None)  # cancelled before we got to it: no charge
        invoice = Invoice.issue(command.order_id, command.customer_id, command.amount)
        transfer = TransferFundsCommand(
            from_account=command.customer_id,
            to_account=command.merchant_account,
            amount=invoice.amount,
        )
        try:
            response = await self._bus.send(transfer)
        except NotFoundError as missing:
            if missing.identifier != command.customer_id:
                raise  # the merchant account is missing: a setup error, not the customer's
            invoice.mark_failed(f"Customer account {command.customer_id!r} does not exist")
        except DomainError as refused:
            # Insufficient funds, a customer paying itself, ...: a refusal the order must hear
            # about (PaymentFailed), never a message retried until it is dead-lettered.
            invoice.mark_failed(str(refused))
        else:
            if response.success:
                invoice.mark_paid(payment_id=response.result)
            else:  # the nested transfer reported failure: its writes were rolled back
                invoice.mark_failed("The transfer was refused")
        await invoices.add(invoice)
        return CommandResponse(result=invoice.id, events=invoice.clear_events())


class RecordOrderCancelledHandler(CommandHandler[bool]):
    """Notes an uncharged order as cancelled, so a late `OrderCreated` charges nothing."""

    async def handle(self, command: RecordOrderCancelledCommand) -> CommandResponse[bool]:
        uow = current_uow()
        if await uow.invoices.find_by_order(command.order_id) is not None:
            return CommandResponse(result=False)  # charged (or failed) already: see the docstring
        if await uow.cancelled_orders.find(command.order_id) is not None:
            return CommandResponse(result=False)  # recorded already
        cancelled = CancelledOrder.record(command.order_id, command.customer_id, command.reason)
        await uow.cancelled_orders.add(cancelled)
        return CommandResponse(result=True, events=cancelled.clear_events())


class RefundPaymentHandler(CommandHandler[str | None]):
    """Sends the money of a PAID invoice back with a nested transfer, and marks it REFUNDED."""

    def __init__(self, bus: ICommandBus) -> None:
        self._bus = bus

    async def handle(self, command: RefundPaymentCommand) -> CommandResponse[str | None]:
        invoices = current_uow().invoices
        invoice = await invoices.find_by_order(command.order_id)
        if invoice is None:
            raise NotFoundError("Invoice of order", command.order_id)
        if invoice.status is not InvoiceStatus.PAID:
            return CommandResponse(result=None)  # refunded already, or nothing was taken
        refund = await self._bus.send(
            TransferFundsCommand(
                from_account=command.merchant_account,
                to_account=invoice.customer_id,
                amount=invoice.amount,
            )
        )
        invoice.mark_refunded(refund_id=refund.result)
        await invoices.save(invoice)
        return CommandResponse(result=refund.result, events=invoice.clear_events())
