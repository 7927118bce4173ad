"""The worker's entry point: ``celery -A workers.celery_app worker`` (or ``cairn worker``)."""

from cairn import create_app
from cairn.config import load_settings

# no round trip before each use of a pooled connection: a task that meets a dropped one is retried
flask_app = create_app({"database_pool_pre_ping": load_settings()["worker_database_pool_pre_ping"]})
celery_app = flask_app.extensions["celery"]
