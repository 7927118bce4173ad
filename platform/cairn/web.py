"""Cross-cutting web concerns: the one error handler, template helpers, security headers, health."""

from __future__ import annotations

import re

from flask import Flask, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter

from cairn import search, ui
from cairn.auth import permissions
from cairn.auth.current import signed_in
from cairn.errors import Conflict, DomainError, Invalid
from cairn.extensions import db
from cairn.kb.actions import space_links, verification_state
from cairn.kb.flags import open_flag_count
from cairn.kb.verification import verification_due
from cairn.models_base import MAX_ID
from cairn.stream.actions import channel_links, unread_count

TAG_RE = re.compile(r"(<[^>]*>)")
REDACTION_RE = re.compile(r"\[REDACTED:([\w\-]+)\]")
CSP = ("default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number no key can hold matches no route (404), instead of
    reaching the database and failing there."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before the blueprints add their routes
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)
    app.jinja_env.globals.update(perm=permissions, verification_state=verification_state,
                                 verification_due=verification_due, svg_icon=ui.icon, post_url=ui.post_url,
                                 csrf_field=ui.csrf_field, ui_avatar=ui.avatar, ui_when=ui.when)
    app.jinja_env.filters["redactions"] = highlight_redactions
    app.context_processor(_sidebar)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/icons.svg", "icons", ui.sprite_response)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error(status: int, code: str, message: str, fields: dict | None = None):
    if _wants_json():
        return jsonify(error={"code": code, "message": message, "fields": fields or {}}), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def _domain_error(err: DomainError):
    db.session.rollback()
    return _error(err.status, err.code, err.message, err.fields)


def _csrf_error(err: CSRFError):
    return _error(400, "csrf", "The form expired or the CSRF token is missing: reload the page and try again.")


def _integrity_error(err: IntegrityError):
    db.session.rollback()
    return _error(409, Conflict.code, "This conflicts with existing data (it may already exist).")


def _http_error(err: HTTPException):
    if isinstance(err, MethodNotAllowed) and not _any_method_matches(err.valid_methods or []):
        err = NotFound()  # e.g. DELETE /posts/<id too large>: no route takes that id, whatever the method
    codes = {413: "too_large", 429: "rate_limited", 405: "method_not_allowed", 404: "not_found"}
    message = {
        413: "The request is too large.",
        429: f"Too many requests: slow down ({err.description}).",
        404: "Not found.",
    }.get(err.code or 500, err.description or err.name)
    return _error(err.code or 500, codes.get(err.code or 500, Invalid.code if (err.code or 500) < 500 else "error"), message)


def _any_method_matches(methods: list[str]) -> bool:
    """Werkzeug checks a rule's method before its converters, so a path whose id no converter
    accepts is answered 405 when another method is routed there. True when one of ``methods``
    really matches this path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        except HTTPException:  # a redirect to the canonical URL: it matched
            return True
        return True
    return False


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS: browsers must never fall back to HTTP
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def highlight_redactions(html: str) -> Markup:
    """Show [REDACTED:kind] markers in sanitised HTML as highlighted marks (in text, not in tags)."""
    def mark(m: re.Match[str]) -> str:
        kind = escape(m.group(1))
        return f'<mark class="redaction" title="redacted {kind}">[redacted {kind}]</mark>'

    parts = TAG_RE.split(str(html))
    return Markup("".join(part if part.startswith("<") else REDACTION_RE.sub(mark, part) for part in parts))


def _sidebar() -> dict:
    if not current_user.is_authenticated:
        return {}
    user = signed_in()
    return {"sidebar_channels": channel_links(user), "sidebar_spaces": space_links(user),
            "unread_notifications": unread_count(user), "open_flags_count": open_flag_count(user)}


def healthz():
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it does not raise
        checks["database"] = {"ok": False, "error": str(exc)[:200]}
    try:
        checks["index"] = {"ok": True, "documents": search.doc_count()}
    except Exception as exc:  # noqa: BLE001 - as above
        checks["index"] = {"ok": False, "error": str(exc)[:200]}
    checks["broker"] = _broker_check()
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503


def _broker_check() -> dict:
    celery = current_app.extensions["celery"]
    url = celery.conf.broker_url
    if celery.conf.task_always_eager:
        return {"ok": True, "transport": "eager"}
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": url.split("://")[0]}
    except Exception as exc:  # noqa: BLE001 - as above
        return {"ok": False, "transport": url.split("://")[0], "error": str(exc)[:200]}
