"""Celery wired into Flask as Flask's own examples/celery does."""

from __future__ import annotations

import os
from datetime import timedelta

from celery import Celery, Task
from flask import Flask, current_app

from cairn import outbox
from workers.tasks import (
    candidates as candidate_tasks,
    curation as curation_tasks,
    index as index_tasks,
    kb as kb_tasks,
    maintenance as maintenance_tasks,
)


def celery_settings(app: Flask) -> dict:
    cfg = app.config["CAIRN"]
    broker = cfg["broker_url"]
    settings = {
        "broker_url": broker,
        # the database holds every task's outcome (outbox, promotion status); a caller that wants a
        # task's return value asks with apply_async(ignore_result=False) and reads it from Redis
        "task_ignore_result": True,
        "result_backend": cfg.get("redis_url") or None,
        "result_expires": timedelta(days=1),
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": "default",
        "task_routes": {"cairn.index.*": {"queue": "index"}},
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_always_eager": bool(cfg.get("celery_eager")),
        "task_eager_propagates": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "outbox-redispatch": {"task": "cairn.outbox.redispatch", "schedule": timedelta(seconds=15)},
            "kb-verification-sweep": {"task": "cairn.kb.mark_overdue", "schedule": timedelta(hours=1)},
            "candidates-score": {"task": "cairn.candidates.score", "schedule": timedelta(minutes=30)},
        },
        "beat_schedule_filename": os.path.join(cfg["instance"], "celerybeat-schedule"),
    }
    if broker.startswith("filesystem://"):
        folder = os.path.join(cfg["instance"], "broker")
        for sub in ("queue", "processed", "control"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        settings["broker_transport_options"] = {
            "data_folder_in": os.path.join(folder, "queue"),
            "data_folder_out": os.path.join(folder, "queue"),
            "processed_folder": os.path.join(folder, "processed"),
            "store_processed": False,
            # kombu's default is a "control" folder in the current directory
            "control_folder": os.path.join(folder, "control"),
        }
    elif broker.startswith("redis"):
        # a task not acked within this time is redelivered (a SIGKILLed worker's task comes back)
        settings["broker_transport_options"] = {
            "visibility_timeout": int(cfg["broker_visibility_timeout"])}
    return settings


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app))
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    outbox.register("index", _sender(index_tasks.apply_index_event.name, "index"))
    outbox.register("promotion", _sender(curation_tasks.run_promotion_event.name, "default"))
    assert maintenance_tasks.redispatch_outbox.name == "cairn.outbox.redispatch"
    assert kb_tasks.mark_overdue.name == "cairn.kb.mark_overdue"
    assert candidate_tasks.score_candidates.name == "cairn.candidates.score"
    return celery_app


def _sender(task_name: str, queue: str):
    """An outbox handler that sends through the Celery app of the Flask app that dispatches.

    A shared task sends through the process's most recently created Celery app, and the handlers
    are process-wide too: with several apps in one process (tests, scripts) that is another app's
    broker.
    """
    return lambda event_id: current_app.extensions["celery"].tasks[task_name].apply_async(
        args=[event_id], queue=queue)
