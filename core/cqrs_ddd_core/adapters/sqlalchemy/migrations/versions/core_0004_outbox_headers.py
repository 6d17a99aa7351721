"""The outbox row keeps headers: the trace context it was written in.

Revision ID: core_0004
Revises: core_0003
Branch: cqrs_ddd_core. Nullable, so rows written before it (and rows written while tracing is
off) simply have none; the relay then publishes without a parent context.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cqrs_outbox") as table:
        table.add_column(sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cqrs_outbox") as table:
        table.drop_column("headers")
