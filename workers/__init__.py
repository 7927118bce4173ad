"""Celery workers: the wiring (wiring.py), the entry point (celery_app.py) and the tasks."""
