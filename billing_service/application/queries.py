"""Billing's queries: reads that return DTOs, never aggregates.

Guide: docs/components/queries.md. Each carries ``actor``, who asked (`SYSTEM` unless the
HTTP edge says otherwise): a customer sees only its own account and invoices (docs/security.md).
"""

from __future__ import annotations

from pydantic import Field

from billing_service.application.dtos import AccountDTO, DepositDTO, InvoiceDTO, TransferDTO
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.primitives.actor import SYSTEM, Actor


class GetAccountQuery(Query[AccountDTO]):
    account_id: str
    actor: Actor = SYSTEM


class ListInvoicesQuery(Query[list[InvoiceDTO]]):
    """Invoices by id, optionally of one order, at most ``limit`` of them.

    ``after`` pages on: only the invoices whose id follows it (the last id of the previous
    page). By id because it is unique and never changes - billing keeps no issue time to sort
    on. ``limit`` goes to 1001: the API asks one row past a page of 1000 to learn whether there
    is a next page.
    """

    order_id: str | None = None
    limit: int = Field(default=100, ge=1, le=1001)
    after: str | None = None
    actor: Actor = SYSTEM


class GetDepositQuery(Query[DepositDTO]):
    """A deposit into ``account_id``; another account's deposit is not found there."""

    account_id: str
    deposit_id: str
    actor: Actor = SYSTEM


class GetTransferQuery(Query[TransferDTO]):
    """A transfer; a customer finds only those from or to its own account."""

    transfer_id: str
    actor: Actor = SYSTEM
