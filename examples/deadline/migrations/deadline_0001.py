"""The example's own table, after the core's (outbox, inbox, locks) and deadlines.

A new service starts from this file: its first revision has no ``down_revision``, a branch
label of its own, and ``depends_on`` the core's branch, so one ``upgrade`` builds the core's
tables first and then this one. The deadlines table is the core's optional migration
(``DEADLINES_VERSIONS``), which app.py passes to ``upgrade`` next to this folder.

Revision ID: deadline_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "deadline_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("deadline",)
depends_on: str | Sequence[str] | None = ("cqrs_ddd_core",)


def upgrade() -> None:
    op.create_table(
        "seats",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fan", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("seats")
