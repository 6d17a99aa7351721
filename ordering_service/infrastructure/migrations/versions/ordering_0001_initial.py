"""Ordering's tables: orders, shipments and the order summaries (the read model).

Revision ID: ordering_0001
Branch: ordering, on top of the core's branch (outbox, inbox, locks) - one database holds both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ordering_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("ordering",)
depends_on: str | Sequence[str] | None = ("cqrs_ddd_core",)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=True),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
    )
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_table(
        "order_summaries",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),  # exact decimal text
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_summaries"),
    )
    op.create_index("ix_order_summaries_customer_id", "order_summaries", ["customer_id"])
    op.create_index("ix_order_summaries_status", "order_summaries", ["status"])
    op.create_index("ix_order_summaries_placed_at", "order_summaries", ["placed_at"])


def downgrade() -> None:
    op.drop_table("order_summaries")
    op.drop_table("shipments")
    op.drop_table("orders")
