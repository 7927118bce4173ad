"""/api/v1 audit log and the OpenAPI document."""

from __future__ import annotations

from flask import jsonify

from cairn import audit
from cairn.api import actor, api_blueprint, load_args, page, public
from cairn.api.openapi import build_spec
from cairn.api.schemas import AuditArgs
from cairn.auth import permissions as perm

bp = api_blueprint("api_meta")


@bp.get("/audit")
def list_audit():
    """The audit log of governance actions (admins only)."""
    perm.require_admin(actor())
    args = load_args(AuditArgs())
    items, nxt = audit.list_events(args["action"], args["target"], args["cursor"], args["limit"],
                                   actor_id=args["actor_id"])
    return jsonify(page([audit.event_out(e) for e in items], nxt))


@bp.get("/openapi.json")
@public
def openapi():
    """This API's OpenAPI 3 document, generated from the routes and marshmallow schemas."""
    return jsonify(build_spec())
