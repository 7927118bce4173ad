"""promotion pipeline steps: each step of the chain stores its result on the promotion

Revision ID: 0008_promotion_steps
Revises: 0007_search_gaps
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.models_base import UTCDateTime

revision: str = "0008_promotion_steps"
down_revision: str | Sequence[str] | None = "0007_search_gaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # add_column needs no batch mode on SQLite; dropping them in downgrade does
    op.add_column("promotions", sa.Column("snapshot", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("promotions", sa.Column("screened", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("promotions", sa.Column("duplicates_checked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.drop_column("duplicates_checked_at")
        batch.drop_column("screened")
        batch.drop_column("snapshot")
