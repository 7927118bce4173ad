"""The promotion pipeline as a Celery chain: one task per step, each idempotent, acks late,
retried with backoff and time-limited.

The outbox event of a promotion request is delivered to ``cairn.promotion.run``, which claims the
promotion and chains the steps still to do (snapshot → screen → duplicates → draft → notify). The
event stays unprocessed until the last step (or a failure) closes it, so a chain lost to a killed
worker or a broker outage is started again by the periodic outbox redispatch and goes on from the
step it reached.
"""

from __future__ import annotations

from celery import chain, shared_task
from sqlalchemy.exc import IntegrityError

from cairn.curation import pipeline

MAX_RETRIES = 4
STEP_OPTIONS = {"bind": True, "acks_late": True, "max_retries": MAX_RETRIES, "soft_time_limit": 60,
                "time_limit": 90}


def _backoff(retries: int) -> int:
    return min(2 ** retries, 30)


@shared_task(name="cairn.promotion.run", **STEP_OPTIONS)
def run_promotion_event(self, event_id: int) -> str | None:
    """Start (or take over) the chain for the promotion an outbox event names."""
    payload = pipeline.event_payload(event_id)
    if payload is None:
        return None  # processed: the chain it started has finished
    promotion_id = payload["promotion_id"]
    try:
        state, steps = pipeline.start_promotion(promotion_id, event_id, fresh=False)
        if state == "start":
            send_chain(self.app, promotion_id, event_id, steps)
            return "started: " + ",".join(steps)
    except pipeline.PromotionBlocked as blocked:
        pipeline.fail_promotion(promotion_id, str(blocked), event_id)
        return "failed"
    except Exception as exc:  # database or broker unreachable: the claim (if made) lapses with the lease
        if self.request.retries >= MAX_RETRIES:
            raise  # the event stays unprocessed: the periodic redispatch tries again later
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if state != "running":  # finished (or missing): nothing will ever need this event again
        pipeline.finish_event(promotion_id, event_id)
    return state


def send_chain(app, promotion_id: int, event_id: int | None, steps: list[str]) -> None:
    """Enqueue the chain of ``steps`` through ``app`` (a shared task's proxy would send through
    the newest Celery app in the process)."""
    chain(*(app.tasks[STEP_TASKS[name].name].si(promotion_id, event_id) for name in steps)).apply_async()


def _run_step(task, name: str, promotion_id: int, event_id: int | None) -> str:
    try:
        return pipeline.run_step(name, promotion_id, event_id)
    except pipeline.PromotionBlocked as blocked:
        pipeline.fail_promotion(promotion_id, str(blocked), event_id)
        return "failed"
    except Exception as exc:  # includes SoftTimeLimitExceeded
        if task.request.retries >= MAX_RETRIES:
            pipeline.fail_promotion(promotion_id, f"The {name} step failed {MAX_RETRIES + 1} times: {exc}",
                                    event_id)
            return "failed"
        # a unique key taken by a concurrent draft (two drafts titled alike) is free to retry at once
        countdown = 0 if isinstance(exc, IntegrityError) else _backoff(task.request.retries)
        raise task.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="cairn.promotion.snapshot", **STEP_OPTIONS)
def snapshot_step(self, promotion_id: int, event_id: int | None = None) -> str:
    return _run_step(self, "snapshot", promotion_id, event_id)


@shared_task(name="cairn.promotion.screen", **STEP_OPTIONS)
def screen_step(self, promotion_id: int, event_id: int | None = None) -> str:
    return _run_step(self, "screen", promotion_id, event_id)


@shared_task(name="cairn.promotion.duplicates", **STEP_OPTIONS)
def duplicates_step(self, promotion_id: int, event_id: int | None = None) -> str:
    return _run_step(self, "duplicates", promotion_id, event_id)


@shared_task(name="cairn.promotion.draft", **STEP_OPTIONS)
def draft_step(self, promotion_id: int, event_id: int | None = None) -> str:
    return _run_step(self, "draft", promotion_id, event_id)


@shared_task(name="cairn.promotion.notify", **STEP_OPTIONS)
def notify_step(self, promotion_id: int, event_id: int | None = None) -> str:
    return _run_step(self, "notify", promotion_id, event_id)


STEP_TASKS = {"snapshot": snapshot_step, "screen": screen_step, "duplicates": duplicates_step,
              "draft": draft_step, "notify": notify_step}
assert tuple(STEP_TASKS) == pipeline.STEPS
