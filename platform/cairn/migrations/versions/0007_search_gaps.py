"""search log clicks and normalised queries for content gaps

Revision ID: 0007_search_gaps
Revises: 0006_candidates
Create Date: 2026-11-26

Written by hand. Plain ``ADD COLUMN`` on both databases (nothing references ``search_log``, and
no new foreign key, so SQLite's batch mode adds the columns in place). Existing rows get their
normalised query here, with a frozen copy of the rule cairn.search.gaps.normalize_query had when
this migration was written (a later change to the rule needs its own data migration).
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cairn.models_base import UTCDateTime

revision: str = "0007_search_gaps"
down_revision: str | Sequence[str] | None = "0006_candidates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPERATOR_RE = re.compile(r"^-?(from|in|space|tag|kind|is|before|after):", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W_]+")
_TOKEN_RE = re.compile(r'-?(?:\w+:[#@]?)?"[^"]*"|\S+')


def _normalize(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    tokens = _TOKEN_RE.findall(text)
    words: set[str] = set()
    for token in tokens:
        if token.startswith("-") or token in {"AND", "OR", "NOT"} or _OPERATOR_RE.match(token):
            continue
        words.update(_WORD_RE.findall(token.casefold()))
    return " ".join(sorted(words))[:500].strip()


def upgrade() -> None:
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("normalized", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("clicked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("clicked_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_search_log_gaps", ["normalized", "created_at", "hits", "clicked", "user_id"],
                              unique=False)

    log = sa.table("search_log", sa.column("id", sa.Integer), sa.column("query", sa.String),
                   sa.column("normalized", sa.String))
    conn = op.get_bind()
    last = 0
    while True:  # in batches, so a large log never sits in memory at once
        rows = conn.execute(sa.select(log.c.id, log.c.query).where(log.c.id > last)
                            .order_by(log.c.id).limit(1000)).all()
        if not rows:
            break
        conn.execute(sa.update(log).where(log.c.id == sa.bindparam("row_id"))
                     .values(normalized=sa.bindparam("value")),
                     [{"row_id": r.id, "value": _normalize(r.query)} for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.drop_index("ix_search_log_gaps")
        batch_op.drop_column("clicked_at")
        batch_op.drop_column("clicked")
        batch_op.drop_column("normalized")
