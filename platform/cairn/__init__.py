"""Cairn: an open stream, a governed knowledge base and one search. ``create_app`` builds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from cairn.config import PROJECT_ROOT, load_policy, load_settings, policy_path, secret_key


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from cairn.curation.policy import check_policy  # (it imports the models: loaded with an app, as below)

    settings = load_settings(test_config)
    policy_file = policy_path(settings.get("policy"))
    app = Flask(
        "cairn",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=settings["instance"],
    )
    app.config.update(
        CAIRN=settings,
        SECRET_KEY=settings.get("secret_key") or secret_key(Path(settings["instance"])),
        DATABASE_URL=settings["database_url"],
        INDEX_DIR=settings["index_dir"],
        MAX_CONTENT_LENGTH=int(settings["max_content_length"]),
        MAX_BODY_CHARS=int(settings["max_body_chars"]),
        POLICY=check_policy(load_policy(str(policy_file)), str(policy_file)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["session_cookie_secure"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        # "Keep me logged in" is a year-long credential: as guarded as the session cookie
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=bool(settings["session_cookie_secure"]),
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings["redis_url"] or "memory://",
        RATELIMIT_ENABLED=bool(settings.get("rate_limits", True)),
        RATELIMIT_HEADERS_ENABLED=True,
    )
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from cairn import live, outbox, pagecache, search
    from cairn.auth.views import init_login
    from cairn.extensions import csrf, db, limiter
    from workers.wiring import celery_init_app

    db.init_app(app)
    pagecache.init_app(app)
    db.after_commit(outbox.flush_after_commit)
    db.after_rollback(outbox.discard_after_rollback)
    db.after_commit(live.flush_after_commit)
    db.after_rollback(live.discard_after_rollback)
    init_login(app)
    csrf.init_app(app)
    limiter.init_app(app)
    search.init_app(app)
    live.init_app(app)
    celery_init_app(app)


def _register_blueprints(app: Flask) -> None:
    from cairn import admin, web
    from cairn.api import meta as meta_api
    from cairn.auth import api as auth_api, views as auth_views
    from cairn.curation import api as curation_api, candidate_api, candidate_views, views as curation_views
    from cairn.kb import api as kb_api, views as kb_views
    from cairn.search import api as search_api, gaps_api, gaps_views, views as search_views
    from cairn.stream import api as stream_api, notification_views, views as stream_views

    web.init_app(app)
    for module in (auth_views, stream_views, notification_views, kb_views, curation_views, candidate_views,
                   search_views, gaps_views, auth_api, stream_api, kb_api, curation_api, candidate_api, search_api,
                   gaps_api, meta_api, admin):
        app.register_blueprint(module.bp)
