"""Moderation: members flag posts that break the rules; moderators (curators) hide, restore, or
dismiss the flags. Nothing is censored without a flag trail or an audit event.

A hidden post disappears for everyone but moderators and its author (who see a notice), and
leaves the search index. Every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select, update

from cairn import audit, live, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Conflict, Forbidden, Invalid, RuleViolation
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.actions import notify
from cairn.stream.models import Post, PostFlag

MAX_REASON = 500
QUEUE_STATUSES = ("flagged", "hidden")


def check_reason(reason: str | None, required: bool = True) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise Invalid("Say which rule the post breaks.", {"reason": ["must not be empty"]})
    if len(reason) > MAX_REASON:
        raise Invalid("The reason is too long.", {"reason": [f"at most {MAX_REASON} characters"]})
    return reason


def flag_post(actor: User, post_id: int, reason: str) -> PostFlag:
    reason = check_reason(reason)
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        if not perm.can_flag_post(actor, post):
            raise RuleViolation("This post is already hidden by a moderator.")
        if s.scalar(select(PostFlag.id).where(PostFlag.post_id == post.id, PostFlag.user_id == actor.id)):
            raise Conflict("You already flagged this post.", {"post_id": ["already flagged"]})
        flag = PostFlag(post_id=post.id, user_id=actor.id, reason=reason)
        s.add(flag)
        s.flush()
        audit.record(s, actor.id, "post.flag", f"post:{post.id}", flag_id=flag.id, reason=reason)
    return flag


def _moderated(actor: User, post_id: int) -> Post:
    post = perm.access_post(actor, post_id)
    if not perm.can_moderate(actor, post):
        raise Forbidden("Only moderators can hide or restore posts.")
    return post


def _resolve_open_flags(s, actor: User, post_id: int, resolution: str) -> int:
    return s.execute(update(PostFlag).where(PostFlag.post_id == post_id, PostFlag.resolved_at.is_(None))
                     .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution=resolution)).rowcount


def hide_post(actor: User, post_id: int, reason: str = "") -> Post:
    reason = check_reason(reason, required=False)
    with db.transaction() as s:
        post = _moderated(actor, post_id)
        if post.hidden_at is not None:
            raise Conflict("This post is already hidden.")
        post.hidden_at = utcnow()
        flags = _resolve_open_flags(s, actor, post.id, "hidden")
        audit.record(s, actor.id, "post.hide", f"post:{post.id}", author_id=post.author_id, reason=reason,
                     flags=flags)
        if post.author_id != actor.id:
            notify(s, post.author_id, "moderation", "A moderator hid your post"
                   + (f": {reason}" if reason else "."), post_id=post.id)
        outbox.emit(s, "index", doc="post", id=post.id)  # hidden posts leave the index
        live.publish(s, post.channel_id, "post.edited", post_id=post.id, parent_id=post.parent_id)
    return post


def restore_post(actor: User, post_id: int) -> Post:
    with db.transaction() as s:
        post = _moderated(actor, post_id)
        if post.hidden_at is None:
            raise Conflict("This post is not hidden.")
        post.hidden_at = None
        audit.record(s, actor.id, "post.restore", f"post:{post.id}", author_id=post.author_id)
        outbox.emit(s, "index", doc="post", id=post.id)
        live.publish(s, post.channel_id, "post.edited", post_id=post.id, parent_id=post.parent_id)
    return post


def dismiss_flags(actor: User, post_id: int) -> int:
    """The post breaks no rule: close its open flags and leave it as it is."""
    with db.transaction() as s:
        post = _moderated(actor, post_id)
        closed = _resolve_open_flags(s, actor, post.id, "dismissed")
        if not closed:
            raise Conflict("This post has no open flags.")
        audit.record(s, actor.id, "post.flags_dismiss", f"post:{post.id}", flags=closed)
    return closed


@dataclass
class QueueItem:
    post: Post
    flags: list[PostFlag]

    @property
    def open_flags(self) -> list[PostFlag]:
        return [f for f in self.flags if f.resolved_at is None]


def _has_open_flag():
    return exists().where(PostFlag.post_id == Post.id, PostFlag.resolved_at.is_(None))


def moderation_queue(actor: User, status: str = "flagged", cursor: str | None = None,
                     limit: int = 50) -> tuple[list[QueueItem], str | None]:
    """Posts with open flags (or hidden posts), newest first, that the moderator can read: a
    private channel's posts reach only moderators who are its members."""
    if not perm.can_see_moderation_queue(actor):
        raise Forbidden("Only moderators can see the moderation queue.")
    if status not in QUEUE_STATUSES:
        raise Invalid("Unknown queue.", {"status": [f"one of {', '.join(QUEUE_STATUSES)}"]})
    which = _has_open_flag() if status == "flagged" else Post.hidden_at.is_not(None)
    q = select(Post).where(perm.visible_posts_clause(actor), which).order_by(Post.id.desc()).limit(limit + 1)
    after = decode_cursor(cursor)
    if after:
        q = q.where(Post.id < after[0])
    posts = list(db.session.scalars(q))
    nxt = encode_cursor(posts[limit - 1].id) if len(posts) > limit else None
    posts = posts[:limit]
    flags: dict[int, list[PostFlag]] = {p.id: [] for p in posts}
    for flag in db.session.scalars(select(PostFlag).where(PostFlag.post_id.in_(flags)).order_by(PostFlag.id)):
        flags[flag.post_id].append(flag)
    return [QueueItem(p, flags[p.id]) for p in posts], nxt


def open_flag_count(actor: User) -> int:
    """Posts waiting for a moderator (for the sidebar); 0 for non-moderators."""
    if not perm.can_see_moderation_queue(actor):
        return 0
    return db.session.scalar(select(func.count()).select_from(Post).where(
        perm.visible_posts_clause(actor), _has_open_flag())) or 0
