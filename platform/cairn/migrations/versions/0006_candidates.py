"""knowledge candidates: scored posts and threads for the curator queue

Revision ID: 0006_candidates
Revises: 0005_merge
Create Date: 2026-11-26

Written by hand: one new table, so no existing table is rebuilt on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.models_base import UTCDateTime

revision: str = "0006_candidates"
down_revision: str | Sequence[str] | None = "0005_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("activity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", UTCDateTime(), nullable=True),
        sa.Column("dismissed_reason", sa.String(length=500), nullable=True),
        sa.Column("dismissed_activity", sa.Integer(), nullable=True),
        sa.Column("promoted_at", UTCDateTime(), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_candidates_post_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["users.id"], name=op.f("fk_candidates_dismissed_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("post_id", name=op.f("uq_candidates_post_id")),
    )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.create_index("ix_candidates_status_score", ["status", "score", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_candidates_status_score")
    op.drop_table("candidates")
