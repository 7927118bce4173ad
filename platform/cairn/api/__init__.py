"""/api/v1: bearer-token or session authentication, schema loading and list envelopes.

Each domain declares its routes in its own ``api.py`` on a blueprint made by
``api_blueprint``; errors become ``{"error": {"code", "message", "fields"}}`` in cairn.web.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from cairn.auth.actions import user_for_token
from cairn.auth.current import signed_in
from cairn.auth.models import User
from cairn.errors import Invalid, Unauthorized
from cairn.extensions import csrf

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def api_blueprint(name: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix="/api/v1")
    csrf.exempt(bp)  # bearer requests carry no cookie; session requests are checked below
    bp.before_request(_authenticate)
    return bp


def public(view: Callable) -> Callable:
    """Mark a route that answers anonymous callers (getting a token, the OpenAPI document)."""
    view.cairn_public = True  # type: ignore[attr-defined]
    return view


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    g.actor = None
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        user = user_for_token(raw.strip())
        if user is None:
            raise Unauthorized("The token is malformed, unknown or revoked.")
        g.actor = user
    elif current_user.is_authenticated:
        if request.method in UNSAFE:
            csrf.protect()  # a browser session must send the X-CSRFToken header
        g.actor = signed_in()
    view = current_app.view_functions.get(request.endpoint or "")
    if g.actor is None and not getattr(view, "cairn_public", False):
        # before the route parses its input: an anonymous caller learns nothing but "log in"
        raise Unauthorized("Authenticate with a bearer token or a session.")


def actor() -> User:
    """The authenticated caller, or 401."""
    if g.get("actor") is None:
        raise Unauthorized("Authenticate with a bearer token or a session.")
    return g.actor


def load(schema: Schema, data: Any = None) -> dict[str, Any]:
    """Validate a JSON body (or ``data``) with a marshmallow schema; 400 lists every problem."""
    if data is None:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Invalid("The body must be a JSON object.", {"_body": ["expected a JSON object"]})
    nul = sorted(str(k) for k, v in data.items() if _has_nul(v)) if isinstance(data, dict) else []
    if nul:  # PostgreSQL cannot store it; refuse it here rather than fail in the database
        raise Invalid("The request is not valid.", {k: ["must not contain a NUL character"] for k in nul})
    try:
        return schema.load(data)
    except ValidationError as err:
        fields = err.messages if isinstance(err.messages, dict) else {"_body": err.messages}
        raise Invalid("The request is not valid.", {k: _flat(v) for k, v in fields.items()}) from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def load_args(schema: Schema) -> dict[str, Any]:
    return load(schema, request.args.to_dict())


def _flat(messages: Any) -> list[str]:
    if isinstance(messages, list):
        return [str(m) for m in messages]
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flat(v)]
    return [str(messages)]


def page(items: list[dict[str, Any]], nxt: str | None) -> dict[str, Any]:
    return {"items": items, "next": nxt}
