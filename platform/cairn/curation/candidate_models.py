"""Knowledge candidates: the rows of the curator queue that the scoring task fills."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cairn.auth.models import User
from cairn.extensions import Base
from cairn.models_base import UTCDateTime, utcnow
from cairn.stream.models import Post

CANDIDATE_STATUSES = ("open", "dismissed", "promoted")


class Candidate(Base):
    """A thread root or standalone post the scoring task found worth a curator's look.

    ``reasons`` lists the signals behind ``score``: [{"signal": "reactions", "value": 7,
    "points": 3.5}, ...]. A dismissed candidate stays dismissed until its thread grows well past
    ``dismissed_activity``; a promotion that covers the thread marks it promoted.
    """

    __tablename__ = "candidates"
    __table_args__ = (Index("ix_candidates_status_score", "status", "score", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[dict]] = mapped_column(JSON, default=list)
    activity: Mapped[int] = mapped_column(Integer, default=0)  # replies + reactions + bookmarks
    status: Mapped[str] = mapped_column(String(16), default="open")
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_reason: Mapped[str | None] = mapped_column(String(500))
    dismissed_activity: Mapped[int | None] = mapped_column(Integer)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship(lazy="joined")
    dismissed_by: Mapped[User | None] = relationship(lazy="joined")
