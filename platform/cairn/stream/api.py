"""/api/v1 channels, posts, threads, reactions and notifications."""

from __future__ import annotations

from flask import current_app, jsonify

from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.api.schemas import ListArgs
from cairn.auth import permissions as perm
from cairn.curation.actions import promoted_articles
from cairn.extensions import limiter
from cairn.stream import actions
from cairn.stream.schemas import (ChannelCreate, ChannelUpdate, NotificationArgs, NotificationsRead,
                                  PostCreate, PostUpdate, channel_out, notification_out, post_out,
                                  revision_out)

bp = api_blueprint("api_stream")


def _post_limit() -> str:
    return current_app.config["CAIRN"]["rate_limit_posts"]


def _posts_out(user, posts) -> list[dict]:
    promoted = promoted_articles(user, [p.id for p in posts])
    return [post_out(p, promoted.get(p.id)) for p in posts]


@bp.get("/channels")
def list_channels():
    return jsonify(page([channel_out(c) for c in actions.list_channels(actor())], None))


@bp.post("/channels")
def create_channel():
    data = load(ChannelCreate())
    channel = actions.create_channel(actor(), data["name"], data["topic"], data["private"], data["members"])
    return jsonify(channel_out(channel)), 201


@bp.get("/channels/<int:channel_id>")
def get_channel(channel_id: int):
    return jsonify(channel_out(perm.access_channel(actor(), channel_id)))


@bp.patch("/channels/<int:channel_id>")
def update_channel(channel_id: int):
    data = load(ChannelUpdate())
    return jsonify(channel_out(actions.update_channel(actor(), channel_id, topic=data.get("topic"))))


@bp.get("/channels/<int:channel_id>/posts")
def list_posts(channel_id: int):
    args = load_args(ListArgs())
    user = actor()
    posts, nxt = actions.timeline(user, channel_id, args["cursor"], args["limit"])
    return jsonify(page(_posts_out(user, posts), nxt))


@bp.post("/channels/<int:channel_id>/posts")
@limiter.limit(_post_limit)
def create_post(channel_id: int):
    data = load(PostCreate())
    post = actions.create_post(actor(), channel_id, data["body"], data["parent_id"])
    return jsonify(post_out(post)), 201


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int):
    user = actor()
    return jsonify(_posts_out(user, [perm.access_post(user, post_id)])[0])


@bp.patch("/posts/<int:post_id>")
def edit_post(post_id: int):
    data = load(PostUpdate())
    return jsonify(post_out(actions.edit_post(actor(), post_id, data["body"])))


@bp.delete("/posts/<int:post_id>")
def delete_post(post_id: int):
    actions.delete_post(actor(), post_id)
    return "", 204


@bp.get("/posts/<int:post_id>/thread")
def get_thread(post_id: int):
    user = actor()
    root, replies = actions.thread(user, post_id)
    out = _posts_out(user, [root, *replies])
    return jsonify(root=out[0], replies=out[1:])


@bp.get("/posts/<int:post_id>/revisions")
def post_revisions(post_id: int):
    return jsonify(page([revision_out(r) for r in actions.post_revisions(actor(), post_id)], None))


@bp.put("/posts/<int:post_id>/reactions/<string:emoji>")
@limiter.limit(_post_limit)
def add_reaction(post_id: int, emoji: str):
    return jsonify(post_out(actions.add_reaction(actor(), post_id, emoji)))


@bp.delete("/posts/<int:post_id>/reactions/<string:emoji>")
def remove_reaction(post_id: int, emoji: str):
    return jsonify(post_out(actions.remove_reaction(actor(), post_id, emoji)))


@bp.get("/notifications")
def list_notifications():
    args = load_args(NotificationArgs())
    items, nxt = actions.notifications(actor(), args["unread"], args["limit"], args["cursor"])
    return jsonify(page([notification_out(n) for n in items], nxt))


@bp.post("/notifications/read")
def read_notifications():
    data = load(NotificationsRead())
    return jsonify(marked=actions.mark_notifications_read(actor(), data["ids"]))
