"""Billing's tables: accounts and invoices.

Revision ID: billing_0001
Branch: billing, on top of the core's branch (outbox, inbox, locks) - one database holds both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "billing_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("billing",)
depends_on: str | Sequence[str] | None = ("cqrs_ddd_core",)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("balance", sa.String(40), nullable=False),  # exact decimal text
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),  # exact decimal text
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("order_id", name="uq_invoices_order_id"),
    )


def downgrade() -> None:
    op.drop_table("invoices")
    op.drop_table("accounts")
