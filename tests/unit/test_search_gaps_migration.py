"""Migration 0007_search_gaps on a database that already has searches: the rows keep their data,
get their normalised question (the migration's frozen rule agrees with cairn.search.gaps), and
the downgrade removes the columns again. SQLite, or a scratch schema of CAIRN_DATABASE_URL."""

from __future__ import annotations

import importlib
import os
import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from cairn.cli import alembic_config
from cairn.search.gaps import normalize_query
from tests import factories as f

QUERIES = ["VPN setup?", "from:@milo kind:post", 'space:"it help" printer -"ink jet" in:#"board room"', "Straße AND café",
           "x" * 500]


def test_the_frozen_rule_of_the_migration_normalises_as_the_application_does():
    migration = importlib.import_module("cairn.migrations.versions.0007_search_gaps")
    f.each(QUERIES + ["", "wi-fi", '"unclosed', "ＶＰＮ", "snake_case"],
           lambda q: _eq(migration._normalize(q), normalize_query(q)))


def _eq(got, want):
    assert got == want, (got, want)


@pytest.fixture
def scratch(tmp_path):
    """A connection to an empty database of its own (never the suite's schema)."""
    url = os.environ.get("CAIRN_DATABASE_URL")
    if not url:
        engine = create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        with engine.begin() as conn:
            yield conn
        engine.dispose()
        return
    schema = f"gaps_migration_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            yield conn
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _migrate(conn, verb, revision):
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    getattr(command, verb)(cfg, revision)


def test_upgrading_normalises_existing_searches_and_downgrading_removes_the_columns(scratch):
    _migrate(scratch, "upgrade", "0006_candidates")
    for i, q in enumerate(QUERIES):
        scratch.execute(text("INSERT INTO search_log (query, hits, created_at) VALUES (:q, :h, CURRENT_TIMESTAMP)"),
                        {"q": q, "h": i})
    _migrate(scratch, "upgrade", "0007_search_gaps")
    rows = scratch.execute(text("SELECT query, hits, normalized, clicked, clicked_at FROM search_log ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(q, i, normalize_query(q), False, None) for i, q in enumerate(QUERIES)]
    assert "ix_search_log_gaps" in {ix["name"] for ix in inspect(scratch).get_indexes("search_log")}
    _migrate(scratch, "downgrade", "0006_candidates")
    assert {c["name"] for c in inspect(scratch).get_columns("search_log")} == {"id", "user_id", "query", "hits",
                                                                                "created_at"}
    assert scratch.execute(text("SELECT count(*) FROM search_log")).scalar() == len(QUERIES)
