"""Alembic environment: runs against the engine of the current Cairn app."""

from alembic import context

from cairn import models  # noqa: F401  (imports every model so the metadata is complete)
from cairn.extensions import Base, db

connection = context.config.attributes.get("connection")


def run() -> None:
    if connection is not None:
        _migrate(connection)
        return
    with db.engine.begin() as conn:
        _migrate(conn)


def _migrate(conn) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
