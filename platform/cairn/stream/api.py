"""/api/v1 channels, posts, threads, reactions, notifications, and the stream's signals:
unread markers, members, mention lookup, preview, answers, bookmarks and moderation."""

from __future__ import annotations

from flask import current_app, jsonify, request

from cairn import live
from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.api.schemas import ListArgs
from cairn.auth import permissions as perm
from cairn.auth.schemas import user_out
from cairn.curation.actions import promoted_articles
from cairn.extensions import limiter
from cairn.stream import actions, members, membership, moderation, rendering, signals, unread
from cairn.stream.schemas import (
    ChannelCreate,
    ChannelUpdate,
    FlagCreate,
    HideRequest,
    MentionLookupArgs,
    ModerationArgs,
    NotificationArgs,
    NotificationsRead,
    PostCreate,
    PostUpdate,
    Preview,
    ReadMark,
    bookmark_out,
    channel_out,
    flag_out,
    notification_out,
    post_out,
    revision_out,
)

bp = api_blueprint("api_stream")

# the composer asks for a preview as the user types (debounced): generous, but bounded
PREVIEW_LIMIT = "240/minute"


def _post_limit() -> str:
    return current_app.config["CAIRN"]["rate_limit_posts"]


def _posts_out(user, posts) -> list[dict]:
    promoted = promoted_articles(user, [p.id for p in posts])
    seen = signals.signals_for(user, posts)
    return [post_out(p, promoted.get(p.id), seen) for p in posts]


def _post_out(user, post) -> dict:
    return _posts_out(user, [post])[0]


def _json_or_empty():
    """An optional JSON body: none at all means no fields (a bad one is still refused by load)."""
    return request.get_json(silent=True) if request.content_length else {}


def _channels_out(channels, user=None) -> list[dict]:
    """Channels with their member counts (one query), and ``user``'s own view of them if given
    (for one channel, its own unread count: not the count of every channel of the user's)."""
    ids = [c.id for c in channels]
    counts = membership.member_counts(ids)
    if user is None:
        return [channel_out(c, counts.get(c.id, 0)) for c in channels]
    mine = membership.channels_of(user.id, ids)
    news = {ids[0]: unread.unread_count(user, ids[0])} if len(ids) == 1 else unread.unread_counts(user)
    return [channel_out(c, counts.get(c.id, 0), c.id in mine, news.get(c.id, 0)) for c in channels]


@bp.get("/channels")
def list_channels():
    user = actor()
    return jsonify(page(_channels_out(actions.list_channels(user), user), None))


@bp.post("/channels")
def create_channel():
    data = load(ChannelCreate())
    channel = actions.create_channel(actor(), data["name"], data["topic"], data["private"], data["members"])
    return jsonify(_channels_out([channel])[0]), 201


@bp.get("/channels/<int:channel_id>")
def get_channel(channel_id: int):
    user = actor()
    return jsonify(_channels_out([perm.access_channel(user, channel_id)], user)[0])


@bp.post("/channels/<int:channel_id>/read")
def mark_channel_read(channel_id: int):
    """Mark a channel read up to a post (default: its newest)."""
    data = load(ReadMark(), _json_or_empty())
    marker = unread.mark_read(actor(), channel_id, data["post_id"])
    return jsonify(channel_id=channel_id, last_read_post_id=marker)


@bp.post("/channels/<int:channel_id>/join")
def join_channel(channel_id: int):
    user = actor()
    return jsonify(_channels_out([actions.join_channel(user, channel_id)], user)[0])


@bp.post("/channels/<int:channel_id>/leave")
def leave_channel(channel_id: int):
    actions.leave_channel(actor(), channel_id)
    return "", 204


@bp.get("/channels/<int:channel_id>/members")
def list_members(channel_id: int):
    """A page of the channel's members, by display name."""
    args = load_args(ListArgs())
    _channel, found, nxt = members.members_page(actor(), channel_id, args["cursor"], args["limit"])
    return jsonify(page([user_out(u) for u in found], nxt))


@bp.put("/channels/<int:channel_id>/members/<int:user_id>")
def add_member(channel_id: int, user_id: int):
    """Add a member to a private channel (its creator or an admin)."""
    channel = members.add_member(actor(), channel_id, user_id)
    return jsonify(_channels_out([channel])[0])


@bp.delete("/channels/<int:channel_id>/members/<int:user_id>")
def remove_member(channel_id: int, user_id: int):
    members.remove_member(actor(), channel_id, user_id)
    return "", 204


@bp.get("/users/lookup")
def lookup_users():
    """People a mention in this channel can reach, by the start of their handle or name."""
    args = load_args(MentionLookupArgs())
    found = members.mention_candidates(actor(), args["channel_id"], args["prefix"], args["limit"])
    return jsonify(page([user_out(u) for u in found], None))


@bp.post("/preview")
@limiter.limit(PREVIEW_LIMIT)
def preview():
    """Markdown body -> the HTML a post with it shows (sanitised, tags and mentions marked)."""
    data = load(Preview())
    return jsonify(html=rendering.preview(data["body"]))


@bp.patch("/channels/<int:channel_id>")
def update_channel(channel_id: int):
    data = load(ChannelUpdate())
    return jsonify(_channels_out([actions.update_channel(actor(), channel_id, topic=data.get("topic"))])[0])


@bp.get("/channels/<int:channel_id>/events")
def channel_events(channel_id: int):
    """Server-Sent Events (text/event-stream) of the channel's post ids; see cairn.live."""
    user = actor()
    perm.access_channel(user, channel_id)
    return live.event_stream(user, channel_id, live.last_event_id(request))


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
    user = actor()
    post = actions.create_post(user, channel_id, data["body"], data["parent_id"])
    return jsonify(_post_out(user, post)), 201


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int):
    user = actor()
    return jsonify(_post_out(user, perm.access_post(user, post_id)))


@bp.patch("/posts/<int:post_id>")
def edit_post(post_id: int):
    data = load(PostUpdate())
    user = actor()
    return jsonify(_post_out(user, actions.edit_post(user, post_id, data["body"])))


@bp.delete("/posts/<int:post_id>")
def delete_post(post_id: int):
    actions.delete_post(actor(), post_id)
    return "", 204


@bp.get("/posts/<int:post_id>/thread")
def get_thread(post_id: int):
    """The thread's root and a page of its replies (oldest first); counts as a thread view."""
    args = load_args(ListArgs())
    user = actor()
    root, replies, nxt = actions.thread_page(user, post_id, args["cursor"], args["limit"])
    if not args["cursor"]:
        signals.record_thread_view(user, root)
    out = _posts_out(user, [root, *replies])
    return jsonify(root=out[0], replies=out[1:], next=nxt)


@bp.get("/posts/<int:post_id>/revisions")
def post_revisions(post_id: int):
    args = load_args(ListArgs())
    revs, nxt = actions.revisions_page(actor(), post_id, args["cursor"], args["limit"])
    return jsonify(page([revision_out(r) for r in revs], nxt))


@bp.put("/posts/<int:post_id>/reactions/<string:emoji>")
@limiter.limit(_post_limit)
def add_reaction(post_id: int, emoji: str):
    user = actor()
    return jsonify(_post_out(user, actions.add_reaction(user, post_id, emoji)))


@bp.delete("/posts/<int:post_id>/reactions/<string:emoji>")
def remove_reaction(post_id: int, emoji: str):
    user = actor()
    return jsonify(_post_out(user, actions.remove_reaction(user, post_id, emoji)))


# --- knowledge signals ------------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/answer")
def mark_answer(post_id: int):
    """Accept this reply as its thread's answer (the thread's author or a curator)."""
    user = actor()
    answer = signals.mark_answer(user, post_id)
    return jsonify(root_id=answer.root_id, answer_id=answer.answer_id)


@bp.delete("/posts/<int:post_id>/answer")
def unmark_answer(post_id: int):
    signals.unmark_answer(actor(), post_id)
    return "", 204


@bp.put("/posts/<int:post_id>/bookmark")
def add_bookmark(post_id: int):
    """Save a post for later."""
    user = actor()
    bookmark = signals.add_bookmark(user, post_id)
    return jsonify(bookmark_out(bookmark, signals.signals_for(user, [bookmark.post]))), 201


@bp.delete("/posts/<int:post_id>/bookmark")
def remove_bookmark(post_id: int):
    signals.remove_bookmark(actor(), post_id)
    return "", 204


@bp.get("/bookmarks")
def list_bookmarks():
    args = load_args(ListArgs())
    user = actor()
    items, nxt = signals.bookmarks(user, args["cursor"], args["limit"])
    seen = signals.signals_for(user, [b.post for b in items])
    return jsonify(page([bookmark_out(b, seen) for b in items], nxt))


# --- moderation -------------------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/flags")
@limiter.limit(_post_limit)
def flag_post(post_id: int):
    """Report a post that breaks the rules, with the reason."""
    data = load(FlagCreate())
    return jsonify(flag_out(moderation.flag_post(actor(), post_id, data["reason"]))), 201


@bp.post("/posts/<int:post_id>/flags/dismiss")
def dismiss_flags(post_id: int):
    return jsonify(dismissed=moderation.dismiss_flags(actor(), post_id))


@bp.post("/posts/<int:post_id>/hide")
def hide_post(post_id: int):
    """Hide a post that breaks the rules (moderators)."""
    data = load(HideRequest(), _json_or_empty())
    user = actor()
    return jsonify(_post_out(user, moderation.hide_post(user, post_id, data["reason"])))


@bp.post("/posts/<int:post_id>/restore")
def restore_post(post_id: int):
    user = actor()
    return jsonify(_post_out(user, moderation.restore_post(user, post_id)))


@bp.get("/moderation")
def moderation_queue():
    """Posts with open flags (status=flagged) or hidden posts (status=hidden), for moderators."""
    args = load_args(ModerationArgs())
    user = actor()
    items, nxt = moderation.moderation_queue(user, args["status"], args["cursor"], args["limit"])
    posts = _posts_out(user, [i.post for i in items])
    return jsonify(page([{"post": p, "flags": [flag_out(f) for f in i.flags]} for p, i in zip(posts, items)],
                        nxt))


@bp.get("/notifications")
def list_notifications():
    args = load_args(NotificationArgs())
    items, nxt = actions.notifications(actor(), args["unread"], args["limit"], args["cursor"])
    return jsonify(page([notification_out(n) for n in items], nxt))


@bp.post("/notifications/read")
def read_notifications():
    data = load(NotificationsRead())
    return jsonify(marked=actions.mark_notifications_read(actor(), data["ids"]))
