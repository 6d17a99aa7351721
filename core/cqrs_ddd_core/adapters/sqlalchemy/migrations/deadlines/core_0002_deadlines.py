"""The core's durable deadlines (`SqlAlchemyDeadlineStorage`).

Revision ID: core_0002
Revises: core_0001
Branch: cqrs_ddd_core, in a versions directory of its own: only a service that uses deadlines
lists it (``StorageRecipe(deadlines=True)``), so the others get no table they never use.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0002"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cqrs_deadlines",
        sa.Column("deadline_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("deadline_key", sa.String(255), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("causation_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("deadline_id", name=op.f("pk_cqrs_deadlines")),
    )
    # Only pending rows: claiming stays as fast however many deadlines fired.
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_cqrs_deadlines_pending",
        "cqrs_deadlines",
        ["due_at", "deadline_id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index("ix_cqrs_deadlines_name_key", "cqrs_deadlines", ["name", "deadline_key"])


def downgrade() -> None:
    op.drop_index("ix_cqrs_deadlines_name_key", table_name="cqrs_deadlines")
    op.drop_index("ix_cqrs_deadlines_pending", table_name="cqrs_deadlines")
    op.drop_table("cqrs_deadlines")
