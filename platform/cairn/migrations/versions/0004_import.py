"""imports: external ids on users, channels and posts

Revision ID: 0004_import
Revises: 0001
Create Date: 2026-11-26

Written by hand. ``external_id`` says where an imported row came from (``slack:U024BE7LH``,
``slack:C024BE91L``, ``slack:C024BE91L:1714571895.000200``), so that a second import of the same
export finds every row again instead of duplicating it.

A plain ``ADD COLUMN`` and a unique *index* (not a unique constraint): on SQLite a new
constraint means recreating the table (batch "move and copy"), and dropping ``users`` or
``posts`` with foreign keys on would cascade-delete the rows that point at them. A unique index
allows any number of NULLs on SQLite and PostgreSQL alike.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_import"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "channels", "posts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("external_id", sa.String(length=120), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_external_id"), ["external_id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_external_id"))
            batch_op.drop_column("external_id")
