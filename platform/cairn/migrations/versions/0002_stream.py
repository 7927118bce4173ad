"""stream: read markers, accepted answers, bookmarks, flags; hidden posts and view counts

Revision ID: 0002_stream
Revises: 0001
Create Date: 2026-11-26

Written by hand: only the stream's own tables and columns.

The two new ``posts`` columns carry no foreign key on purpose: on SQLite a new foreign key means
recreating ``posts`` (batch "move and copy"), and dropping the old table with foreign keys on
would cascade-delete every reaction, mention, revision and notification of an existing
database. Plain ``ADD COLUMN`` keeps the rows where they are. Who hid a post is in the audit log.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.models_base import UTCDateTime

revision: str = "0002_stream"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("view_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_posts_hidden_at", ["hidden_at"], unique=False)

    op.create_table(
        "channel_reads",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_post_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_channel_reads_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_channel_reads_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id", "user_id", name=op.f("pk_channel_reads")),
    )

    op.create_table(
        "thread_answers",
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["root_id"], ["posts.id"], name=op.f("fk_thread_answers_root_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["answer_id"], ["posts.id"], name=op.f("fk_thread_answers_answer_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["marked_by_id"], ["users.id"], name=op.f("fk_thread_answers_marked_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("root_id", name=op.f("pk_thread_answers")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_thread_answers_answer_id")),
    )

    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_bookmarks_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bookmarks_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("user_id", "post_id", name=op.f("uq_bookmarks_user_id")),
    )
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookmarks_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookmarks_user_id"), ["user_id"], unique=False)

    op.create_table(
        "post_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_post_flags_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_post_flags_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"], name=op.f("fk_post_flags_resolved_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_flags")),
        sa.UniqueConstraint("post_id", "user_id", name=op.f("uq_post_flags_post_id")),
    )
    with op.batch_alter_table("post_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_flags_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_flags_post_id"))
    op.drop_table("post_flags")
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookmarks_user_id"))
        batch_op.drop_index(batch_op.f("ix_bookmarks_post_id"))
    op.drop_table("bookmarks")
    op.drop_table("thread_answers")
    op.drop_table("channel_reads")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_hidden_at")
        batch_op.drop_column("view_count")
        batch_op.drop_column("hidden_at")
