"""Periodic housekeeping run by `cairn beat` (or the embedded worker's beat)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from cairn import outbox


@shared_task(name="cairn.outbox.redispatch")
def redispatch_outbox() -> int:
    """Send again every side effect whose task never ran (broker down, worker killed)."""
    return outbox.redispatch_stale(current_app.config["CAIRN"]["outbox_retry_after"])
