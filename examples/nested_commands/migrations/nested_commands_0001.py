"""The example's own tables, after the core's (outbox, inbox, locks).

A new service starts from this file: its first revision has no ``down_revision``, a branch
label of its own, and ``depends_on`` the core's branch, so one ``upgrade`` builds the core's
tables first and then these.

Revision ID: nested_commands_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "nested_commands_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("nested_commands",)
depends_on: str | Sequence[str] | None = ("cqrs_ddd_core",)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("players", sa.Integer(), nullable=False),
    )
    op.create_table(
        "players",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("players")
    op.drop_table("teams")
