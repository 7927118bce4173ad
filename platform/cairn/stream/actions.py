"""Stream actions: channels, posts, threads, reactions, mentions and notifications."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import defaultload, lazyload, selectinload

from cairn import audit, live, outbox
from cairn.auth import permissions as perm
from cairn.auth.actions import handle_for
from cairn.auth.models import User
from cairn.errors import Conflict, Forbidden, Invalid, NotFound
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream import membership
from cairn.stream.models import (
    Channel,
    Mention,
    Notification,
    Post,
    PostRevision,
    Reaction,
)
from cairn.stream.unread import start_reading_at_latest
from cairn.text import mentioned_handles, render_markdown

CHANNEL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
SHORTCODE_RE = re.compile(r"^:?[a-z0-9_+\-]{1,40}:?$")


# --- channels ---------------------------------------------------------------------------------

def create_channel(actor: User, name: str, topic: str = "", private: bool = False,
                   member_ids: list[int] | None = None) -> Channel:
    name = name.strip().lower().lstrip("#")
    if not CHANNEL_NAME_RE.match(name):
        raise Invalid("Invalid channel name.", {"name": ["lowercase letters, digits, - and _"]})
    with db.transaction() as s:
        if s.scalar(select(Channel.id).where(Channel.name == name)):
            raise Conflict("A channel with this name exists.", {"name": ["already taken"]})
        members = s.scalars(select(User).where(User.id.in_(set(member_ids or []) | {actor.id}))).all()
        if len(members) != len(set(member_ids or []) | {actor.id}):
            raise Invalid("Unknown member.", {"members": ["unknown user id"]})
        channel = Channel(name=name, topic=topic, private=private, created_by_id=actor.id,
                          members=list(members))
        s.add(channel)
        s.flush()
        audit.record(s, actor.id, "channel.create", f"channel:{channel.id}", private=private)
    return channel


def update_channel(actor: User, channel_id: int, *, topic: str | None = None) -> Channel:
    with db.transaction():
        channel = perm.access_channel(actor, channel_id)
        if not perm.can_manage_channel(actor, channel):
            raise Forbidden("Only the channel's creator or an admin can change it.")
        if topic is not None:
            channel.topic = topic
    return channel


def join_channel(actor: User, channel_id: int) -> Channel:
    with db.transaction() as s:
        channel = perm.access_channel(actor, channel_id)
        if membership.enroll(s, channel, actor.id):
            start_reading_at_latest(s, channel.id, actor.id)  # a newcomer's unread count starts at 0
    return channel


def leave_channel(actor: User, channel_id: int) -> None:
    with db.transaction() as s:
        membership.unenroll(s, perm.access_channel(actor, channel_id), actor.id)


def list_channels(user: User) -> list[Channel]:
    """The channels ``user`` may read, by name (their members stay unloaded: see
    cairn.stream.membership for counts)."""
    return list(db.session.scalars(_readable_channels(user, Channel)))


class ChannelLink(NamedTuple):
    """A channel as every page's sidebar names it."""

    id: int
    name: str
    private: bool


def channel_links(user: User) -> list[ChannelLink]:
    """``list_channels`` as rows of the three columns the sidebar shows (no Channel objects to build)."""
    return [ChannelLink(*row) for row in db.session.execute(
        _readable_channels(user, Channel.id, Channel.name, Channel.private))]


def _readable_channels(user: User, *columns) -> Select:
    return select(*columns).where(perm.visible_channels_clause(user)).order_by(Channel.name)


# --- posts ------------------------------------------------------------------------------------

def check_body(body: str) -> str:
    body = (body or "").strip()
    limit = current_app.config["MAX_BODY_CHARS"]
    if not body:
        raise Invalid("A post cannot be empty.", {"body": ["must not be empty"]})
    if len(body) > limit:
        raise Invalid("The post is too long.", {"body": [f"at most {limit} characters"]})
    return body


def create_post(actor: User, channel_id: int, body: str, parent_id: int | None = None) -> Post:
    body = check_body(body)
    with db.transaction() as s:
        channel = perm.access_channel(actor, channel_id)
        if not perm.can_post_in(actor, channel):
            raise Forbidden("You cannot post in this channel.")
        parent = None
        if parent_id is not None:
            parent = perm.access_post(actor, parent_id)
            if parent.channel_id != channel.id:
                raise Invalid("The thread is in another channel.", {"parent_id": ["not in this channel"]})
            # a reply joins its parent's thread, which must still be there (deleted roots take no replies)
            parent = parent if parent.parent_id is None else perm.access_post(actor, parent.parent_id)
        post = Post(channel_id=channel.id, author_id=actor.id, body=body,
                    html=render_markdown(body), parent_id=parent.id if parent else None)
        s.add(post)
        if not perm.is_member(actor, channel):
            membership.enroll(s, channel, actor.id)  # posting joins the channel
        s.flush()
        if parent is not None:
            s.execute(update(Post).where(Post.id == parent.id).values(reply_count=Post.reply_count + 1))
            if parent.author_id != actor.id:
                notify(s, parent.author_id, "reply", f"{actor.display_name} replied to your thread in #{channel.name}",
                       post_id=post.id)
        _record_mentions(s, actor, post, channel)
        outbox.emit(s, "index", doc="post", id=post.id)
        live.publish(s, channel.id, "post.created", post_id=post.id, parent_id=post.parent_id)
    return post


def _record_mentions(s, actor: User, post: Post, channel: Channel) -> None:
    handles = mentioned_handles(post.body)
    if not handles:
        return
    candidates = s.scalars(select(User).where(User.active.is_(True))).all()
    already = set(s.scalars(select(Mention.user_id).where(Mention.post_id == post.id)))
    for user in candidates:
        if handle_for(user) in handles and user.id not in already and perm.can_read_channel(user, channel):
            s.add(Mention(post_id=post.id, user_id=user.id))
            if user.id != actor.id:
                notify(s, user.id, "mention", f"{actor.display_name} mentioned you in #{channel.name}",
                       post_id=post.id)


def edit_post(actor: User, post_id: int, body: str) -> Post:
    body = check_body(body)
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        if not perm.can_edit_post(actor, post):
            raise Forbidden("You can only edit your own posts.")
        if body == post.body:
            return post
        s.add(PostRevision(post_id=post.id, body=post.body, editor_id=actor.id))
        post.body, post.html, post.edited_at = body, render_markdown(body), utcnow()
        _record_mentions(s, actor, post, post.channel)
        outbox.emit(s, "index", doc="post", id=post.id)
        live.publish(s, post.channel_id, "post.edited", post_id=post.id, parent_id=post.parent_id)
    return post


def delete_post(actor: User, post_id: int) -> None:
    """Soft delete: the row stays for the audit trail; every read path stops showing it."""
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        if not perm.can_delete_post(actor, post):
            raise Forbidden("You can only delete your own posts.")
        post.deleted_at = utcnow()
        if post.parent_id:
            s.execute(update(Post).where(Post.id == post.parent_id).values(reply_count=Post.reply_count - 1))
        audit.record(s, actor.id, "post.delete", f"post:{post.id}", author_id=post.author_id)
        outbox.emit(s, "index", doc="post", id=post.id)
        live.publish(s, post.channel_id, "post.deleted", post_id=post.id, parent_id=post.parent_id)


def post_revisions(actor: User, post_id: int) -> list[PostRevision]:
    return revisions_page(actor, post_id, limit=None)[0]


def revisions_page(actor: User, post_id: int, cursor: str | None = None, limit: int | None = 50
                   ) -> tuple[list[PostRevision], str | None]:
    """A post's earlier bodies, oldest first, by keyset on id (``limit=None``: all)."""
    post = perm.access_post(actor, post_id)
    q = select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.id)
    after = decode_cursor(cursor)
    if after:
        q = q.where(PostRevision.id > after[0])
    if limit is None:
        return list(db.session.scalars(q)), None
    revs = list(db.session.scalars(q.limit(limit + 1)))
    return revs[:limit], (encode_cursor(revs[limit - 1].id) if len(revs) > limit else None)


def timeline(actor: User, channel_id: int, cursor: str | None = None, limit: int = 50
             ) -> tuple[list[Post], str | None]:
    """Thread roots of a channel, newest first, by keyset on id (fast at any depth)."""
    channel = perm.access_channel(actor, channel_id)
    after = decode_cursor(cursor)
    q = (select(Post).where(Post.channel_id == channel.id, Post.parent_id.is_(None),
                            perm.shown_posts_clause(actor))
         .order_by(Post.id.desc()).limit(limit + 1)
         # a page shows its authors' and reactors' names, never their groups: no query for those;
         # the channel is the one just checked (already in the session), and reactions come with
         # their people in one query
         .options(defaultload(Post.author).lazyload(User.groups), lazyload(Post.channel),
                  selectinload(Post.reactions).joinedload(Reaction.user).lazyload(User.groups)))
    if after:
        q = q.where(Post.id < after[0])
    posts = list(db.session.scalars(q))
    nxt = encode_cursor(posts[limit - 1].id) if len(posts) > limit else None
    return posts[:limit], nxt


def thread(actor: User, post_id: int) -> tuple[Post, list[Post]]:
    root, replies, _ = thread_page(actor, post_id, limit=None)
    return root, replies


def thread_page(actor: User, post_id: int, cursor: str | None = None, limit: int | None = 100
                ) -> tuple[Post, list[Post], str | None]:
    """A thread's root and its replies, oldest first, by keyset on id (``limit=None``: all)."""
    post = perm.access_post(actor, post_id)
    root = post if post.parent_id is None else perm.access_post(actor, post.parent_id)
    q = select(Post).where(Post.parent_id == root.id, perm.shown_posts_clause(actor)).order_by(Post.id)
    after = decode_cursor(cursor)
    if after:
        q = q.where(Post.id > after[0])
    if limit is None:
        return root, list(db.session.scalars(q)), None
    replies = list(db.session.scalars(q.limit(limit + 1)))
    nxt = encode_cursor(replies[limit - 1].id) if len(replies) > limit else None
    return root, replies[:limit], nxt


# --- reactions --------------------------------------------------------------------------------

def check_emoji(emoji: str) -> str:
    emoji = (emoji or "").strip()
    if SHORTCODE_RE.match(emoji):
        return emoji.strip(":")
    if 0 < len(emoji) <= 16 and all(
        unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") or ch in "\u200d\ufe0f" or 0x1F1E6 <= ord(ch) <= 0x1F1FF
        for ch in emoji
    ) and any(unicodedata.category(ch) == "So" for ch in emoji):
        return emoji
    raise Invalid("Not an emoji.", {"emoji": ["an emoji character or a :short_name:"]})


def add_reaction(actor: User, post_id: int, emoji: str) -> Post:
    emoji = check_emoji(emoji)
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        exists = s.scalar(select(Reaction.id).where(
            Reaction.post_id == post.id, Reaction.user_id == actor.id, Reaction.emoji == emoji))
        if exists:
            raise Conflict("You already reacted with this emoji.", {"emoji": ["already reacted"]})
        s.add(Reaction(post_id=post.id, user_id=actor.id, emoji=emoji))
        if post.author_id != actor.id:
            notify(s, post.author_id, "reaction", f"{actor.display_name} reacted {emoji} to your post",
                   post_id=post.id)
        live.publish(s, post.channel_id, "reaction.changed", post_id=post.id, parent_id=post.parent_id)
    s.refresh(post)
    return post


def remove_reaction(actor: User, post_id: int, emoji: str) -> Post:
    emoji = check_emoji(emoji)
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        gone = s.execute(delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == actor.id, Reaction.emoji == emoji))
        if gone.rowcount == 0:
            raise NotFound("You have not reacted with this emoji.")
        live.publish(s, post.channel_id, "reaction.changed", post_id=post.id, parent_id=post.parent_id)
    s.refresh(post)
    return post


def toggle_reaction(actor: User, post_id: int, emoji: str) -> Post:
    emoji = check_emoji(emoji)
    post = perm.access_post(actor, post_id)
    mine = any(r.user_id == actor.id and r.emoji == emoji for r in post.reactions)
    return (remove_reaction if mine else add_reaction)(actor, post_id, emoji)


# --- notifications ----------------------------------------------------------------------------

def notify(s, user_id: int, kind: str, text: str, **refs) -> None:
    s.add(Notification(user_id=user_id, kind=kind, text=text[:300], **refs))


def notifications(actor: User, unread_only: bool = False, limit: int = 50,
                  cursor: str | None = None) -> tuple[list[Notification], str | None]:
    """The actor's notifications, minus those about posts or articles they can no longer read."""
    q = (select(Notification).where(perm.visible_notifications_clause(actor))
         .order_by(Notification.id.desc()).limit(limit + 1))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    after = decode_cursor(cursor)
    if after:
        q = q.where(Notification.id < after[0])
    items = list(db.session.scalars(q))
    nxt = encode_cursor(items[limit - 1].id) if len(items) > limit else None
    return items[:limit], nxt


def unread_count(actor: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        perm.visible_notifications_clause(actor), Notification.read_at.is_(None))) or 0


def open_notification(actor: User, notification_id: int) -> Notification:
    """One of the actor's notifications, marked read (to follow its link)."""
    with db.transaction() as s:
        note = s.scalar(select(Notification).where(Notification.id == notification_id,
                                                   perm.visible_notifications_clause(actor)))
        if note is None:
            raise NotFound("Notification not found.")
        if note.read_at is None:
            note.read_at = utcnow()
    return note


def mark_notifications_read(actor: User, ids: list[int] | None = None) -> int:
    with db.transaction() as s:
        q = update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        if ids:
            q = q.where(Notification.id.in_(ids))
        return s.execute(q.values(read_at=utcnow())).rowcount
