"""The candidate queue's periodic scoring, run by beat (idempotent: an upsert per thread)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from cairn.curation import candidates


@shared_task(name="cairn.candidates.score", acks_late=True, soft_time_limit=240, time_limit=300)
def score_candidates() -> dict[str, Any]:
    """Score every active thread and refresh the curator queue of knowledge candidates."""
    return candidates.score_candidates()
