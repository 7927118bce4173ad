"""Append-only audit events: who did which governance action to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from cairn.extensions import Base
from cairn.models_base import UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(64))  # e.g. "article:7"
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(session: Session, actor_id: int | None, action: str, target: str, **data: Any) -> None:
    """Add an audit event to the caller's transaction (it commits or rolls back with it)."""
    session.add(AuditEvent(actor_id=actor_id, action=action, target=target, data=data))
