"""Promotion requests: a curator's ask to turn posts into an article, and its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cairn.auth.models import User
from cairn.extensions import Base
from cairn.models_base import UTCDateTime, utcnow

STATUSES = ("queued", "running", "needs_review", "done", "rejected", "failed")
ACTIVE = ("queued", "running", "needs_review")


class Promotion(Base):
    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_ids: Mapped[list[int]] = mapped_column(JSON)
    # Set while the promotion is active, NULL after: the unique index allows one active
    # promotion per set of posts, so a double click or a re-delivery cannot make a second one.
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default="new")  # new | append
    target_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    step: Mapped[str] = mapped_column(String(32), default="queued")
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    findings: Mapped[list[dict]] = mapped_column(JSON, default=list)
    duplicates: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # What each step of the pipeline found, so a step re-run after a crash skips what is done and
    # later steps read from here: the posts as they were ({id, parent_id, author_id, author,
    # channel, body, created_at}), their bodies after redaction, when duplicates were looked for.
    snapshot: Mapped[list[dict] | None] = mapped_column(JSON(none_as_null=True))
    screened: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    duplicates_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requester: Mapped[User] = relationship(lazy="joined")
