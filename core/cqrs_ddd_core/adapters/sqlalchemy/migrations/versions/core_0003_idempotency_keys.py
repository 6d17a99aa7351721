"""The responses of idempotent requests (`SqlAlchemyIdempotencyStorage`).

Revision ID: core_0003
Revises: core_0001
Branch: cqrs_ddd_core. It follows ``core_0001``, not the optional deadlines (``core_0002``, in
a directory only some services list): every service serves HTTP, so every one gets this table,
and a service that also lists the deadlines has two heads on the core's branch - Alembic
upgrades both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cqrs_idempotency_keys",
        sa.Column("caller", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        # The key of the pattern: one response per caller and key, whoever commits first.
        sa.PrimaryKeyConstraint("caller", "idempotency_key", name=op.f("pk_cqrs_idempotency_keys")),
    )
    op.create_index("ix_cqrs_idempotency_keys_expires_at", "cqrs_idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_cqrs_idempotency_keys_expires_at", table_name="cqrs_idempotency_keys")
    op.drop_table("cqrs_idempotency_keys")
