"""The core's tables: the transactional outbox, the inbox and the locks.

Revision ID: core_0001
Branch: cqrs_ddd_core (a service's first revision says ``depends_on = ("cqrs_ddd_core",)``)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("cqrs_ddd_core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cqrs_outbox",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("causation_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_cqrs_outbox")),
    )
    # Only unfinished rows: claiming stays as fast however many rows were published.
    unfinished = sa.text("status IN ('pending', 'failed', 'claimed')")
    op.create_index(
        "ix_cqrs_outbox_unfinished",
        "cqrs_outbox",
        ["created_at", "message_id"],
        postgresql_where=unfinished,
        sqlite_where=unfinished,
    )
    op.create_table(
        "cqrs_inbox",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("consumer", sa.String(255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "consumer", name=op.f("pk_cqrs_inbox")),
    )
    op.create_table(
        "cqrs_locks",
        sa.Column("resource_key", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(100), nullable=False),
        sa.Column("resource_id", sa.String(150), nullable=False),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(255), nullable=True),
        sa.Column("holds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False, comment="Unix time in seconds"),
        sa.PrimaryKeyConstraint("resource_key", name=op.f("pk_cqrs_locks")),
    )


def downgrade() -> None:
    op.drop_table("cqrs_locks")
    op.drop_table("cqrs_inbox")
    op.drop_index("ix_cqrs_outbox_unfinished", table_name="cqrs_outbox")
    op.drop_table("cqrs_outbox")
