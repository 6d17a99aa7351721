"""The warehouse's tables, migrated the way a service migrates its tables.

Revision ID: warehouse_0001
Depends on: the core branch (its outbox, inbox and locks tables come first).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "warehouse_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("warehouse",)
depends_on: str | Sequence[str] | None = ("cqrs_ddd_core",)


def upgrade() -> None:
    op.create_table(
        "shelves",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shipments")
    op.drop_table("shelves")
