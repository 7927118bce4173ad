"""Administration: the audit log, the content-gaps report, and the admin- and curator-only actions."""

from __future__ import annotations

from cairn.auth.models import User
from cairn.errors import Forbidden, NotFound


def can_view_audit(user: User) -> bool:
    return user.is_admin


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotFound()


def can_see_content_gaps(user: User) -> bool:
    """Unanswered searches, grouped and counted (never who asked), are for curators."""
    return user.is_curator


def require_curator(user: User) -> None:
    if not user.is_curator:
        raise Forbidden("Only curators can do this.")
