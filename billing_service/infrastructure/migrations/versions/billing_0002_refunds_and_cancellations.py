"""Billing learns compensation: refunded invoices, and orders cancelled before any charge.

Revision ID: billing_0002
Revises: billing_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "billing_0002"
down_revision: str | Sequence[str] | None = "billing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch: SQLite cannot ALTER a table in place beyond adding a column; this keeps one way.
    with op.batch_alter_table("invoices") as invoices:
        invoices.add_column(sa.Column("refund_id", sa.String(64), nullable=True))
    op.create_table(
        "cancelled_orders",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cancelled_orders"),
    )


def downgrade() -> None:
    op.drop_table("cancelled_orders")
    with op.batch_alter_table("invoices") as invoices:
        invoices.drop_column("refund_id")
