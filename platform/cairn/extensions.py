"""Extensions created once here and bound to the app in create_app()."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from flask.globals import app_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Database:
    """A SQLAlchemy engine and a request-scoped session, bound to one Flask app."""

    def __init__(self) -> None:
        # one session per app context (not per thread), so an eager task run inside a request
        # gets its own session and its teardown cannot close the request's
        self.session = scoped_session(self._new_session, scopefunc=_app_ctx_id)
        self._after_commit: list[Callable[[Session], None]] = []
        self._after_rollback: list[Callable[[Session], None]] = []

    # create_app registers its hooks on this process-wide object once per app: keep one of each
    def after_commit(self, hook: Callable[[Session], None]) -> None:
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    def after_rollback(self, hook: Callable[[Session], None]) -> None:
        if hook not in self._after_rollback:
            self._after_rollback.append(hook)

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            cfg = app.config["CAIRN"]
            engine = create_engine(url, pool_pre_ping=bool(cfg.get("database_pool_pre_ping", True)),
                                   pool_recycle=int(cfg.get("database_pool_recycle", 1800)))
        app.extensions["cairn.engine"] = engine
        app.teardown_appcontext(lambda exc: self.session.remove())

    @property
    def engine(self) -> Engine:
        return current_app.extensions["cairn.engine"]

    def _new_session(self) -> Session:
        return Session(bind=self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The one way an action writes: commit on success, roll back everything on error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            for hook in self._after_rollback:
                hook(session)
            raise
        for hook in self._after_commit:
            hook(session)


def commit_without_flush_wait(session: Session) -> None:
    """On PostgreSQL, the session's current transaction commits without waiting for its WAL flush
    (an fsync, ~5 ms here). Only for writes a database-server crash may lose because they are
    redone when missing; later flushed commits flush them too, so they are never lost out of order."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _app_ctx_id() -> int:
    return id(app_ctx._get_current_object())


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
# Redis down must not turn requests into 500s (nor a committed post into an error the client retries):
# limits fall back to each process's memory until Redis answers again.
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True,
                  swallow_errors=True)
