"""Celery tasks: each takes ids and calls the same domain action the web uses."""
