"""promotion pipeline steps

Revision ID: 0008_promotion_steps
Revises: 0007_search_gaps
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0008_promotion_steps"
down_revision: str | Sequence[str] | None = "0007_search_gaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
