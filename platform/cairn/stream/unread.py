"""Unread markers: how far each user has read each channel, and the unread counts built on them.

A marker is the id of the newest thread root the user has seen in a channel. Counts are of thread
roots (what the timeline shows) written by others after the marker, through the permission
layer, for the channels the user is a member of. Counting stops at ``COUNT_CAP`` so a long
backlog costs the same as a short one (the sidebar shows "99+").
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Invalid
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.stream.models import Channel, ChannelRead, Post

COUNT_CAP = 100


def _latest_root_id(s: Session, channel_id: int, user: User | None = None) -> int:
    q = select(func.max(Post.id)).where(Post.channel_id == channel_id, Post.parent_id.is_(None))
    if user is not None:
        q = q.where(perm.shown_posts_clause(user))
    return s.scalar(q) or 0


def _advance(s: Session, channel_id: int, user_id: int, post_id: int) -> None:
    """Move the marker forward to ``post_id`` (never back), creating it when missing; one
    statement, so two tabs marking at once cannot collide."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ChannelRead).values(channel_id=channel_id, user_id=user_id, last_read_post_id=post_id,
                                      updated_at=utcnow())
    s.execute(stmt.on_conflict_do_update(
        index_elements=["channel_id", "user_id"],
        set_={"last_read_post_id": stmt.excluded.last_read_post_id, "updated_at": stmt.excluded.updated_at},
        where=ChannelRead.last_read_post_id < stmt.excluded.last_read_post_id,
    ))


def start_reading_at_latest(s: Session, channel_id: int, user_id: int) -> None:
    """Inside a caller's transaction: a new member starts with nothing unread."""
    _advance(s, channel_id, user_id, _latest_root_id(s, channel_id))


def read_position(user: User, channel_id: int) -> int | None:
    """The user's marker in a channel they can read (0: never read), None if they are not a member."""
    channel = perm.access_channel(user, channel_id)
    if not perm.is_member(user, channel):
        return None
    return db.session.scalar(select(ChannelRead.last_read_post_id).where(
        ChannelRead.channel_id == channel.id, ChannelRead.user_id == user.id)) or 0


def mark_read(actor: User, channel_id: int, post_id: int | None = None) -> int:
    """Mark the channel read up to ``post_id`` (default: its newest post the actor can see);
    returns the marker. A post of another channel, or one the actor cannot read, is refused."""
    with db.transaction() as s:
        channel = perm.access_channel(actor, channel_id)
        if post_id is None:
            position = _latest_root_id(s, channel.id, actor)
        else:
            post = s.get(Post, post_id)
            if post is None or post.channel_id != channel.id or not perm.can_read_post(actor, post):
                raise Invalid("That post is not in this channel.", {"post_id": ["not a post of this channel"]})
            position = post.id
        if position:
            _advance(s, channel.id, actor.id, position)
        marker = s.scalar(select(ChannelRead.last_read_post_id).where(
            ChannelRead.channel_id == channel.id, ChannelRead.user_id == actor.id))
    return marker or 0


def unread_counts(user: User) -> dict[int, int]:
    """{channel id: unread thread roots (capped at COUNT_CAP)} for the user's channels with news:
    one query for all of them (a capped count per channel, a subquery beside each channel row)."""
    return {channel_id: n for channel_id, n in db.session.execute(_counts(user)) if n}


def unread_count(user: User, channel_id: int) -> int:
    """One channel's entry of ``unread_counts`` (0: no news, or not a member), for an answer about
    that channel alone: the same query narrowed to it, not every channel's count."""
    return dict(db.session.execute(_counts(user).where(Channel.id == channel_id)).all()).get(channel_id, 0)


def _counts(user: User) -> Select:
    """(channel id, capped count of unread thread roots) for each channel the user is a member of."""
    marker = func.coalesce(ChannelRead.last_read_post_id, 0)
    unread = (select(Post.id)
              .where(Post.channel_id == Channel.id, Post.parent_id.is_(None), Post.id > marker,
                     Post.author_id != user.id, perm.shown_posts_clause(user))
              .limit(COUNT_CAP).correlate(Channel, ChannelRead).subquery())
    count = select(func.count()).select_from(unread).scalar_subquery()
    return (select(Channel.id, count)
            .outerjoin(ChannelRead, and_(ChannelRead.channel_id == Channel.id, ChannelRead.user_id == user.id))
            .where(perm.member_channels_clause(user)))
