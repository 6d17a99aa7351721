"""Billing's queries: reads that return DTOs, never aggregates.

Guide: docs/components/queries.md. Each carries ``actor``, who asked (`SYSTEM` unless the
HTTP edge says otherwise): a customer sees only its own account and invoices (docs/security.md).
"""

from __future__ import annotations

from billing_service.application.dtos import AccountDTO, InvoiceDTO
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.primitives.actor import SYSTEM, Actor


class GetAccountQuery(Query[AccountDTO]):
    account_id: str
    actor: Actor = SYSTEM


class ListInvoicesQuery(Query[list[InvoiceDTO]]):
    """Invoices, optionally of one order."""

    order_id: str | None = None
    actor: Actor = SYSTEM
