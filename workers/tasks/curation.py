"""The promotion pipeline's task: idempotent, acks late, retried with backoff, time-limited."""

from __future__ import annotations

from celery import shared_task

from cairn import outbox
from cairn.curation import actions as curation

MAX_RETRIES = 4


@shared_task(name="cairn.promotion.run", bind=True, acks_late=True, max_retries=MAX_RETRIES,
             soft_time_limit=60, time_limit=90)
def run_promotion_event(self, event_id: int) -> str | None:
    with outbox.handling(event_id) as payload:
        if payload is None:
            return None
        promotion_id = payload["promotion_id"]
        try:
            return curation.run_promotion(promotion_id)
        except curation.PromotionBlocked as blocked:
            curation.fail_promotion(promotion_id, str(blocked))
            return "failed"
        except Exception as exc:
            if self.request.retries >= MAX_RETRIES:
                curation.fail_promotion(
                    promotion_id, f"The promotion failed after {MAX_RETRIES + 1} attempts: {exc}")
                return "failed"
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30))
