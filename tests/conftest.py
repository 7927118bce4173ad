"""Shared fixtures: an app on a real database (SQLite, or PostgreSQL via CAIRN_DATABASE_URL).

Each test gets a fresh app, an empty search index, and empty tables (rows are deleted after the
test; the schema is migrated once per session with Alembic, as `cairn init` does).
Celery runs eagerly here; tests under tests/integration start real workers on real Redis.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, make_url, text

from cairn import create_app
from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.extensions import Base, db

DATABASE_URL_ENV = "CAIRN_DATABASE_URL"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cairn-test.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a clean schema for this run
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    # tests need no crash durability: not waiting for the WAL flush makes every commit cheaper
    return make_url(url).update_query_dict({"options": "-c synchronous_commit=off"}).render_as_string(
        hide_password=False)


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory) -> str:
    app = create_app({"database_url": database_url, "instance": str(tmp_path_factory.mktemp("instance")),
                      "secret_key": "test", "celery_eager": True})
    with app.app_context():
        from cairn.cli import upgrade_database

        upgrade_database()
        db.engine.dispose()
    return database_url


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Werkzeug's default (scrypt) costs 0.1-0.3 s a user, and most tests create several: hash
    with a cheap method here (check_password_hash reads the method from the stored hash)."""
    from cairn.auth import actions

    real = actions.generate_password_hash
    patch = pytest.MonkeyPatch()
    patch.setattr(actions, "generate_password_hash", lambda password: real(password, method="pbkdf2:sha256:1000"))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def reuse_url_builders():
    """Every test builds an app, and Werkzeug compiles two URL builders per route for each: most of
    create_app's time. A builder depends only on its rule's text and defaults, and reads the
    converters from the rule it is bound to, so one compiled builder per rule serves every app."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict = {}

    def cached(rule, append_unknown=True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(Rule, "_compile_builder", cached)
    yield
    patch.undo()


def make_app(database_url: str, tmp_path, **overrides):
    settings = {
        "database_url": database_url,
        "instance": str(tmp_path / "instance"),
        "index_dir": str(tmp_path / "index"),
        "secret_key": "test-secret",
        "celery_eager": True,
        "rate_limits": False,
        **overrides,
    }
    return create_app(settings)


@pytest.fixture
def app(migrated, tmp_path) -> Iterator:
    app = make_app(migrated, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            # DELETE and restarting the sequences take a tenth of TRUNCATE's time on tables this small
            sequences = conn.execute(text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")).scalars().all()
            for name in sequences:
                conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class People:
    admin: User
    curator: User
    member: User
    other: User

    PASSWORD = "correct-horse-battery"


@pytest.fixture
def people(app) -> People:
    return People(
        admin=auth.create_user("admin@example.com", People.PASSWORD, "Ada Admin", "admin"),
        curator=auth.create_user("curator@example.com", People.PASSWORD, "Carla Curator", "curator"),
        member=auth.create_user("member@example.com", People.PASSWORD, "Milo Member", "member"),
        other=auth.create_user("other@example.com", People.PASSWORD, "Olga Other", "member"),
    )


@pytest.fixture
def bearer(app):
    """bearer(user) -> headers with a fresh API token for that user."""

    def make(user: User) -> dict[str, str]:
        _, raw = auth.issue_token(user, "test")
        return {"Authorization": f"Bearer {raw}"}

    return make


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


def log_in(client, user: User) -> None:
    """Log ``client`` in as ``user`` through the real login form (with its CSRF token)."""
    token = csrf_token(client)
    resp = client.post("/login", data={"email": user.email, "password": People.PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


@pytest.fixture
def login(client):
    """login(user) logs the test client in through the real login form (with its CSRF token)."""
    return lambda user: log_in(client, user)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run. Playwright's sync API allows one running instance
    per thread, so every folder's browser tests (tests/browser, tests/security) share this one."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SKIP_REASON

    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
