"""Administration pages: the audit log of governance actions, with filters (admins only)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from marshmallow import fields, validate
from sqlalchemy import select

from cairn import audit
from cairn.api import load
from cairn.api.schemas import Id, ListArgs
from cairn.auth import permissions as perm
from cairn.auth.current import signed_in
from cairn.auth.models import User
from cairn.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


class AuditFilter(ListArgs):
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    target = fields.String(load_default=None, validate=validate.Length(max=64))
    actor_id = Id(load_default=None)


@bp.get("/audit", endpoint="audit")
@login_required
def audit_log():
    me = signed_in()
    perm.require_admin(me)
    raw = {k: v for k, v in request.args.items() if v.strip()}
    args = load(AuditFilter(), raw)
    events, nxt = audit.list_events(args["action"], args["target"], args["cursor"], args["limit"],
                                    actor_id=args["actor_id"])
    users = list(db.session.scalars(select(User).order_by(User.display_name)))
    return render_template("admin/audit.html", events=events, next=nxt, users=users,
                           actors={u.id: u for u in users}, filters=args)
