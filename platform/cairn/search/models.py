"""Search log: every query with its hit count and whether a result was opened, for content gaps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from cairn.extensions import Base
from cairn.models_base import UTCDateTime, utcnow


class SearchLog(Base):
    __tablename__ = "search_log"
    # the content-gap report groups a time window's rows by their normalised question and counts
    # hits, clicks and searchers: all in the index, so it is read without the table (bench/gaps.py)
    __table_args__ = (Index("ix_search_log_gaps", "normalized", "created_at", "hits", "clicked", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(String(500))
    # cairn.search.gaps.normalize_query(query): "VPN setup?" and "setup vpn" share one
    normalized: Mapped[str] = mapped_column(String(500), default="", server_default="")
    hits: Mapped[int] = mapped_column(Integer)
    clicked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
