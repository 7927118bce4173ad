"""merge the stream, knowledge-base and import branches

Revision ID: 0005_merge
Revises: 0002_stream, 0003_kb, 0004_import
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "0005_merge"
down_revision: str | Sequence[str] | None = ("0002_stream", "0003_kb", "0004_import")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
