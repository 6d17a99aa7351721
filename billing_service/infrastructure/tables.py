"""Billing's SQL tables, on billing's own `MetaData` (its own database, its own migrations).

Money is stored as decimal *text*: exact on every database (SQLite has no exact decimal type),
and read back as `Decimal`. The migrations in infrastructure/migrations/ build exactly these
tables; tests/services/test_sql_storage.py checks the two never drift apart.
Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from cqrs_ddd_core.adapters.sqlalchemy.schema import NAMING_CONVENTION
from cqrs_ddd_core.adapters.sqlalchemy.types import DecimalText, UtcDateTime

billing_metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    billing_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("balance", DecimalText, nullable=False),
)

invoices = Table(
    "invoices",
    billing_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    # Unique: one invoice per order, even if two deliveries of OrderCreated race.
    Column("order_id", String(64), nullable=False, unique=True),
    Column("customer_id", String(64), nullable=False),
    Column("amount", DecimalText, nullable=False),
    Column("status", String(16), nullable=False),
    Column("payment_id", String(64), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("refund_id", String(64), nullable=True),
)

cancelled_orders = Table(
    "cancelled_orders",
    billing_metadata,
    Column("id", String(64), primary_key=True),  # the order id
    Column("version", Integer, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
)

# The ledger (application/ledger.py): every deposit and transfer, readable by its id.
deposits = Table(
    "deposits",
    billing_metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("amount", DecimalText, nullable=False),
    Column("balance", DecimalText, nullable=False),
    Column("deposited_at", UtcDateTime, nullable=False),
)

transfers = Table(
    "transfers",
    billing_metadata,
    Column("id", String(64), primary_key=True),
    Column("from_account", String(64), nullable=False),
    Column("to_account", String(64), nullable=False),
    Column("amount", DecimalText, nullable=False),
    Column("transferred_at", UtcDateTime, nullable=False),
)
