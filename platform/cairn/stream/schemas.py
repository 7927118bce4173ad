"""Stream input schemas (one per operation) and output shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.api.schemas import Id, ListArgs
from cairn.auth.schemas import user_out
from cairn.stream.models import Bookmark, Channel, Notification, Post, PostFlag, PostRevision

BODY = validate.Length(max=40_000)


class ChannelCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    topic = fields.String(load_default="", validate=validate.Length(max=250))
    private = fields.Boolean(load_default=False)
    members = fields.List(Id(), load_default=list, validate=validate.Length(max=1000))


class ChannelUpdate(Schema):
    topic = fields.String(validate=validate.Length(max=250))


class PostCreate(Schema):
    body = fields.String(required=True, validate=BODY)
    parent_id = Id(load_default=None, allow_none=True)


class PostUpdate(Schema):
    body = fields.String(required=True, validate=BODY)


class ReadMark(Schema):
    post_id = Id(load_default=None, allow_none=True)


class Preview(Schema):
    body = fields.String(required=True, validate=BODY)


class MentionLookupArgs(Schema):
    channel_id = Id(required=True)
    prefix = fields.String(load_default="", validate=validate.Length(max=80))
    limit = fields.Integer(load_default=8, validate=validate.Range(1, 20))


class FlagCreate(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=500))


class HideRequest(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ModerationArgs(ListArgs):
    status = fields.String(load_default="flagged", validate=validate.OneOf(["flagged", "hidden"]))


class NotificationArgs(ListArgs):
    unread = fields.Boolean(load_default=False)


class NotificationsRead(Schema):
    ids = fields.List(Id(), load_default=None, validate=validate.Length(max=1000))


def channel_out(channel: Channel, members: int, member: bool | None = None, unread: int = 0) -> dict:
    """``members``: the channel's member count; ``member`` (whether the caller is one) and
    ``unread`` make it the caller's own view of it."""
    out = {"id": channel.id, "name": channel.name, "topic": channel.topic, "private": channel.private,
           "members": members}
    if member is not None:
        out.update(member=member, unread=unread)
    return out


def post_out(post: Post, promoted_to: list | None = None, signals=None) -> dict:
    """``signals`` (cairn.stream.signals.PostSignals) adds the reader's view: accepted answer, saved."""
    out = {
        "id": post.id,
        "channel_id": post.channel_id,
        "author": user_out(post.author),
        "body": post.body,
        "html": post.html,
        "parent_id": post.parent_id,
        "reply_count": post.reply_count,
        "reactions": post.reaction_summary(),
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
        "promoted_to": [{"id": a.id, "title": a.title} for a in (promoted_to or [])],
        "view_count": post.view_count or 0,
        "hidden": post.hidden_at is not None,
    }
    if signals is not None:
        out.update(answer_id=signals.answer_of(post), is_answer=signals.is_answer(post),
                   bookmarked=signals.is_saved(post))
    return out


def bookmark_out(bookmark: Bookmark, signals=None) -> dict:
    return {"id": bookmark.id, "created_at": bookmark.created_at.isoformat(),
            "post": post_out(bookmark.post, signals=signals)}


def flag_out(flag: PostFlag) -> dict:
    return {"id": flag.id, "post_id": flag.post_id, "user": user_out(flag.user), "reason": flag.reason,
            "created_at": flag.created_at.isoformat(), "resolution": flag.resolution,
            "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None}


def revision_out(rev: PostRevision) -> dict:
    return {"id": rev.id, "body": rev.body, "editor_id": rev.editor_id, "created_at": rev.created_at.isoformat()}


def notification_out(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "text": n.text, "post_id": n.post_id, "article_id": n.article_id,
            "promotion_id": n.promotion_id, "created_at": n.created_at.isoformat(),
            "read": n.read_at is not None}
