"""/api/v1 tokens, me, users and groups."""

from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import select

from cairn.api import actor, api_blueprint, load, load_args, page, public
from cairn.api.schemas import ListArgs
from cairn.auth import actions, permissions as perm
from cairn.auth.models import Group, User
from cairn.auth.schemas import GroupCreate, TokenCreate, UserCreate, UserUpdate, user_out
from cairn.errors import NotFound, Unauthorized
from cairn.extensions import db, limiter
from cairn.pagination import decode_cursor, encode_cursor

bp = api_blueprint("api_auth")


@bp.post("/tokens")
@public
@limiter.limit(lambda: current_app.config["CAIRN"]["rate_limit_login"])
def create_token():
    data = load(TokenCreate())
    user = actions.authenticate(data["email"], data["password"])
    if user is None:
        raise Unauthorized("Wrong e-mail or password.")
    token, raw = actions.issue_token(user, data["name"])
    return jsonify(id=token.id, token=raw, name=token.name), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    actions.revoke_token(actor(), token_id)
    return "", 204


@bp.get("/me")
def me():
    return jsonify(user_out(actor(), full=True))


@bp.get("/users")
def list_users():
    perm.require_admin(actor())
    args = load_args(ListArgs())
    after = decode_cursor(args["cursor"])
    q = select(User).order_by(User.id).limit(args["limit"] + 1)
    if after:
        q = q.where(User.id > after[0])
    users = list(db.session.scalars(q))
    nxt = encode_cursor(users[args["limit"] - 1].id) if len(users) > args["limit"] else None
    return jsonify(page([user_out(u, full=True) for u in users[: args["limit"]]], nxt))


@bp.post("/users")
def create_user():
    admin = actor()
    perm.require_admin(admin)
    data = load(UserCreate())
    user = actions.create_user(data["email"], data["password"], data["display_name"], data["role"], actor=admin)
    return jsonify(user_out(user, full=True)), 201


@bp.get("/users/<int:user_id>")
def get_user(user_id: int):
    perm.require_admin(actor())
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    return jsonify(user_out(user, full=True))


@bp.patch("/users/<int:user_id>")
def update_user(user_id: int):
    admin = actor()
    perm.require_admin(admin)
    data = load(UserUpdate())
    user = actions.update_user(admin, user_id, role=data.get("role"), active=data.get("active"),
                               display_name=data.get("display_name"), group_ids=data.get("groups"))
    return jsonify(user_out(user, full=True))


@bp.get("/groups")
def list_groups():
    perm.require_admin(actor())
    groups = db.session.scalars(select(Group).order_by(Group.name)).all()
    return jsonify(page([{"id": g.id, "name": g.name, "members": [u.id for u in g.members]} for g in groups], None))


@bp.post("/groups")
def create_group():
    admin = actor()
    perm.require_admin(admin)
    group = actions.create_group(admin, load(GroupCreate())["name"])
    return jsonify(id=group.id, name=group.name, members=[]), 201


@bp.put("/groups/<int:group_id>/members/<int:user_id>")
def add_member(group_id: int, user_id: int):
    admin = actor()
    perm.require_admin(admin)
    group = actions.set_group_member(admin, group_id, user_id, True)
    return jsonify(id=group.id, name=group.name, members=[u.id for u in group.members])


@bp.delete("/groups/<int:group_id>/members/<int:user_id>")
def remove_member(group_id: int, user_id: int):
    admin = actor()
    perm.require_admin(admin)
    actions.set_group_member(admin, group_id, user_id, False)
    return "", 204
