"""knowledge base: verification sweep, per-space interval, imports, reader flags

Revision ID: 0003_kb
Revises: 0001
Create Date: 2026-11-26

Written by hand: only the knowledge base's own tables and columns (other domains migrate
from 0001 on their own branches; the heads are merged later).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.models_base import UTCDateTime

revision: str = "0003_kb"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verify_interval_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_verification_since", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("import_key", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("import_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_articles_import_key", ["space_id", "import_key"])

    op.create_table(
        "article_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolver_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_article_flags_article_id_articles"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name=op.f("fk_article_flags_reporter_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resolver_id"], ["users.id"], name=op.f("fk_article_flags_resolver_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_flags")),
    )
    with op.batch_alter_table("article_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_flags_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_flags_resolved_at"), ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_flags_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_article_flags_article_id"))
    op.drop_table("article_flags")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint("uq_articles_import_key", type_="unique")
        batch_op.drop_column("import_hash")
        batch_op.drop_column("import_key")
        batch_op.drop_column("needs_verification_since")

    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.drop_column("verify_interval_days")
