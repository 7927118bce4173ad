"""Append-only audit events: who did which governance action to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cairn.extensions import Base, db
from cairn.models_base import UTCDateTime, utcnow
from cairn.pagination import decode_cursor, encode_cursor


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


def list_events(action: str | None = None, target: str | None = None, cursor: str | None = None,
                limit: int = 50, actor_id: int | None = None) -> tuple[list[AuditEvent], str | None]:
    """Newest first; callers check that the actor is an admin (permissions.require_admin).
    An ``action`` ending in a dot is a prefix: "article." matches every article action."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if action and action.endswith("."):
        q = q.where(AuditEvent.action.startswith(action, autoescape=True))
    elif action:
        q = q.where(AuditEvent.action == action)
    if actor_id is not None:
        q = q.where(AuditEvent.actor_id == actor_id)
    if target:
        q = q.where(AuditEvent.target == target)
    after = decode_cursor(cursor)
    if after:
        q = q.where(AuditEvent.id < after[0])
    items = list(db.session.scalars(q))
    return items[:limit], (encode_cursor(items[limit - 1].id) if len(items) > limit else None)


def event_out(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "actor_id": event.actor_id, "action": event.action, "target": event.target,
            "data": event.data, "created_at": event.created_at.isoformat()}
