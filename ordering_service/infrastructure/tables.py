"""Ordering's SQL tables, on ordering's own `MetaData` (its own database, its own migrations).

Money is stored as decimal *text*: exact on every database (SQLite has no exact decimal type),
and read back as `Decimal`. The migrations in infrastructure/migrations/ build exactly these
tables; tests/services/test_sql_storage.py checks the two never drift apart.
Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text

from cqrs_ddd_core.adapters.sqlalchemy.schema import NAMING_CONVENTION
from cqrs_ddd_core.adapters.sqlalchemy.types import DecimalText, UtcDateTime

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
