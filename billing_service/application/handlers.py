"""Every handler of billing, registered: where to look up what handles a message.

The thing to notice: the handlers that move money on behalf of another command - paying an
invoice, refunding it - get the bus, and send `TransferFundsCommand` through it *nested*, so
the invoice and both balances commit together. Nothing here knows a database, a lock store or
a broker: the composition root (bootstrap.py) calls this with the mediator as the bus.
"""

from __future__ import annotations

from billing_service.application.command_handlers import (
    DepositHandler,
    OpenAccountHandler,
    PayInvoiceHandler,
    RecordOrderCancelledHandler,
    RefundPaymentHandler,
    TransferFundsHandler,
)
from billing_service.application.commands import (
    DepositCommand,
    OpenAccountCommand,
    PayInvoiceCommand,
    RecordOrderCancelledCommand,
    RefundPaymentCommand,
    TransferFundsCommand,
)
from billing_service.application.ledger import LedgerProjection
from billing_service.application.queries import (
    GetAccountQuery,
    GetDepositQuery,
    GetTransferQuery,
    ListInvoicesQuery,
)
from billing_service.application.query_handlers import (
    GetAccountHandler,
    GetDepositHandler,
    GetTransferHandler,
    ListInvoicesHandler,
)
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.ports.bus import ICommandBus


def register_handlers(registry: HandlerRegistry, bus: ICommandBus) -> None:
    """Every command and query handler of billing."""
    registry.register_command_handler(OpenAccountCommand, OpenAccountHandler())
    registry.register_command_handler(DepositCommand, DepositHandler())
    registry.register_command_handler(TransferFundsCommand, TransferFundsHandler())
    registry.register_query_handler(GetAccountQuery, GetAccountHandler())
    registry.register_query_handler(ListInvoicesQuery, ListInvoicesHandler())
    registry.register_query_handler(GetDepositQuery, GetDepositHandler())
    registry.register_query_handler(GetTransferQuery, GetTransferHandler())
    # The ledger (deposits and transfers by id) follows the account events, in-process.
    ledger = LedgerProjection()
    for event_type in LedgerProjection.handles:
        registry.register_event_handler(event_type, ledger)
    # Paying an invoice moves the money with a TransferFundsCommand, nested through ``bus``.
    registry.register_command_handler(PayInvoiceCommand, PayInvoiceHandler(bus))
    # Compensation: a refund is a nested transfer back; a cancellation only takes a note.
    registry.register_command_handler(RefundPaymentCommand, RefundPaymentHandler(bus))
    registry.register_command_handler(RecordOrderCancelledCommand, RecordOrderCancelledHandler())
