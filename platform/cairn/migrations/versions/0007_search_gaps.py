"""search log clicks and normalised queries for content gaps

Revision ID: 0007_search_gaps
Revises: 0006_candidates
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0007_search_gaps"
down_revision: str | Sequence[str] | None = "0006_candidates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
