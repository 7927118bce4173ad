"""Knowledge-base housekeeping run by beat: the verification sweep."""

from __future__ import annotations

from celery import shared_task

from cairn.kb.verification import mark_overdue_articles


@shared_task(name="cairn.kb.mark_overdue", acks_late=True)
def mark_overdue() -> dict[str, int]:
    """Mark expired articles as needing verification and notify their owners (once per expiry)."""
    return mark_overdue_articles()
