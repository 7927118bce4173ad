"""Stream pages: channels, timeline, threads, reactions, notifications."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from cairn.api import load
from cairn.api.schemas import ListArgs
from cairn.auth import permissions as perm
from cairn.curation.actions import promoted_articles
from cairn.extensions import limiter
from cairn.forms import load_form
from cairn.kb.actions import list_spaces
from cairn.stream import actions
from cairn.stream.schemas import ChannelCreate, PostCreate, PostUpdate

bp = Blueprint("stream", __name__)


def _post_limit() -> str:
    return current_app.config["CAIRN"]["rate_limit_posts"]


def _me():
    return current_user._get_current_object()


@bp.get("/")
@login_required
def home():
    channels = actions.list_channels(_me())
    if channels:
        return redirect(url_for("stream.channel", channel_id=channels[0].id))
    return redirect(url_for("stream.channels"))


@bp.get("/channels")
@login_required
def channels():
    return render_template("stream/channels.html", channels=actions.list_channels(_me()))


@bp.post("/channels")
@login_required
def create_channel():
    data = load_form(ChannelCreate(), private=request.form.get("private") == "on")
    channel = actions.create_channel(_me(), data["name"], data["topic"], data["private"], data["members"])
    return redirect(url_for("stream.channel", channel_id=channel.id))


@bp.get("/channels/<int:channel_id>")
@login_required
def channel(channel_id: int):
    me = _me()
    args = load(ListArgs(), request.args.to_dict())
    chan = perm.access_channel(me, channel_id)
    posts, nxt = actions.timeline(me, channel_id, args["cursor"], args["limit"])
    return render_template("stream/channel.html", channel=chan, posts=list(reversed(posts)), next_cursor=nxt,
                           promoted=promoted_articles(me, [p.id for p in posts]),
                           spaces=list_spaces(me) if me.is_curator else [])


@bp.post("/channels/<int:channel_id>/join")
@login_required
def join(channel_id: int):
    actions.join_channel(_me(), channel_id)
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/leave")
@login_required
def leave(channel_id: int):
    actions.leave_channel(_me(), channel_id)
    return redirect(url_for("stream.channels"))


@bp.post("/channels/<int:channel_id>/posts")
@login_required
@limiter.limit(_post_limit)
def create_post(channel_id: int):
    data = load_form(PostCreate())
    post = actions.create_post(_me(), channel_id, data["body"], data["parent_id"])
    if post.parent_id:
        return redirect(url_for("stream.post", post_id=post.parent_id, _anchor=f"post-{post.id}"))
    return redirect(url_for("stream.channel", channel_id=channel_id, _anchor=f"post-{post.id}"))


@bp.get("/posts/<int:post_id>")
@login_required
def post(post_id: int):
    me = _me()
    root, replies = actions.thread(me, post_id)
    posts = [root, *replies]
    return render_template("stream/thread.html", root=root, replies=replies, channel=root.channel,
                           promoted=promoted_articles(me, [p.id for p in posts]),
                           spaces=list_spaces(me) if me.is_curator else [])


@bp.get("/posts/<int:post_id>/edit")
@login_required
def edit_post_form(post_id: int):
    post = perm.access_post(_me(), post_id)
    return render_template("stream/edit_post.html", post=post,
                           revisions=actions.post_revisions(_me(), post_id))


@bp.post("/posts/<int:post_id>/edit")
@login_required
def edit_post(post_id: int):
    post = actions.edit_post(_me(), post_id, load_form(PostUpdate())["body"])
    return redirect(url_for("stream.post", post_id=post.parent_id or post.id, _anchor=f"post-{post.id}"))


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete_post(post_id: int):
    post = perm.access_post(_me(), post_id)
    channel_id, parent_id = post.channel_id, post.parent_id
    actions.delete_post(_me(), post_id)
    if parent_id:
        return redirect(url_for("stream.post", post_id=parent_id))
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/posts/<int:post_id>/react")
@login_required
@limiter.limit(_post_limit)
def react(post_id: int):
    post = actions.toggle_reaction(_me(), post_id, request.form.get("emoji", ""))
    back = url_for("stream.post", post_id=post.parent_id) if post.parent_id else \
        url_for("stream.channel", channel_id=post.channel_id)
    return redirect(f"{back}#post-{post.id}")


@bp.get("/notifications")
@login_required
def notifications():
    items, _ = actions.notifications(_me(), limit=100)
    return render_template("stream/notifications.html", notifications=items)


@bp.post("/notifications/read")
@login_required
def read_notifications():
    actions.mark_notifications_read(_me())
    return redirect(url_for("stream.notifications"))
