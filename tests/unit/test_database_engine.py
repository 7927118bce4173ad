"""The database engine's options: web and workers differ in the pre-use test of a pooled connection,
and a transaction may commit without waiting for its WAL flush (PostgreSQL only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from cairn.config import load_settings
from cairn.extensions import commit_without_flush_wait, db
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
# never connected to: an engine connects on first use
UNUSED_PG_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def test_the_web_tests_pooled_connections_before_use_and_workers_do_not(tmp_path):
    assert load_settings()["database_pool_pre_ping"] is True
    assert load_settings()["worker_database_pool_pre_ping"] is False
    web = make_app(UNUSED_PG_URL, tmp_path)
    assert web.extensions["cairn.engine"].pool._pre_ping is True
    assert web.extensions["cairn.engine"].pool._recycle == 1800
    worker = make_app(UNUSED_PG_URL, tmp_path, database_pool_pre_ping=False)
    assert worker.extensions["cairn.engine"].pool._pre_ping is False


def test_the_worker_entry_point_builds_its_app_without_the_pre_use_test(tmp_path):
    code = ("from workers.celery_app import flask_app; "
            "print(flask_app.extensions['cairn.engine'].pool._pre_ping)")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
           "CAIRN_DATABASE_URL": UNUSED_PG_URL, "CAIRN_INSTANCE": str(tmp_path), "CAIRN_SECRET_KEY": "x"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "False"


def test_a_commit_without_flush_wait_holds_for_its_own_transaction_only(app):
    if db.engine.dialect.name != "postgresql":
        with db.transaction() as s:  # nothing to set on SQLite, and nothing breaks
            commit_without_flush_wait(s)
        return
    with db.engine.connect() as conn:  # the tests' connections may turn it off for every commit
        conn.execute(text("SET synchronous_commit TO on"))
        conn.commit()
        session = Session(bind=conn)
        commit_without_flush_wait(session)
        assert session.scalar(text("SHOW synchronous_commit")) == "off"
        session.commit()
        assert conn.scalar(text("SHOW synchronous_commit")) == "on"
        conn.rollback()
