"""Ordering's SQL tables, on ordering's own `MetaData` (its own database, its own migrations).

Money is stored as decimal *text*: exact on every database (SQLite has no exact decimal type),
and read back as `Decimal`. The migrations in infrastructure/migrations/ build exactly these
tables; tests/services/test_sql_storage.py checks the two never drift apart.
Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from cqrs_ddd_core.adapters.sqlalchemy.outbox import UtcDateTime
from cqrs_ddd_core.adapters.sqlalchemy.schema import NAMING_CONVENTION


class DecimalText(TypeDecorator[Decimal]):
    """A `Decimal` stored as its exact text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


ordering_metadata = MetaData(naming_convention=NAMING_CONVENTION)

orders = Table(
    "orders",
    ordering_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("payment_id", String(64), nullable=True),
    Column("shipment_id", String(64), nullable=True),
    Column("cancellation_reason", Text, nullable=True),
)

shipments = Table(
    "shipments",
    ordering_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("order_id", String(64), nullable=False, index=True),
)

order_summaries = Table(
    "order_summaries",
    ordering_metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("total", DecimalText, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False, index=True),
)
