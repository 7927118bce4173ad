"""The worker's entry point: ``celery -A workers.celery_app worker`` (or ``cairn worker``)."""

from cairn import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
