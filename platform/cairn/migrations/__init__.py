"""Alembic migrations; ``cairn init`` upgrades the database to head."""
