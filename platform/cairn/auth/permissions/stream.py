"""Channels and posts: who reads, posts, edits, deletes, moderates, promotes and manages members."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.auth.permissions._common import fetch_readable, reader_clause
from cairn.stream import membership
from cairn.stream.models import Channel, Post, channel_members


def is_member(user: User, channel: Channel) -> bool:
    """One EXISTS on channel_members (kept for the session until it writes), never the member list."""
    return membership.is_member(user.id, channel)


def can_read_channel(user: User, channel: Channel) -> bool:
    return not channel.private or is_member(user, channel)


def can_post_in(user: User, channel: Channel) -> bool:
    return user.is_active and can_read_channel(user, channel)


def can_manage_channel(user: User, channel: Channel) -> bool:
    return can_read_channel(user, channel) and (user.is_admin or channel.created_by_id == user.id)


def can_read_post(user: User, post: Post) -> bool:
    return (post.deleted_at is None and can_read_channel(user, post.channel)
            and (post.hidden_at is None or can_see_hidden(user, post)))


def can_see_hidden(user: User, post: Post) -> bool:
    """A post hidden by a moderator stays visible to moderators and to its author (with a notice)."""
    return user.is_curator or post.author_id == user.id


def can_edit_post(user: User, post: Post) -> bool:
    return can_read_post(user, post) and post.author_id == user.id


def can_delete_post(user: User, post: Post) -> bool:
    return can_read_post(user, post) and (post.author_id == user.id or user.is_curator)


def can_promote(user: User, post: Post) -> bool:
    return user.is_curator and can_read_post(user, post) and post.hidden_at is None


def can_manage_members(user: User, channel: Channel) -> bool:
    """Only private channels have a member list to manage; public ones are joined freely."""
    return channel.private and can_manage_channel(user, channel)


def can_mark_answer(user: User, root: Post) -> bool:
    """Accepting an answer is the asker's call, or a curator's."""
    return root.parent_id is None and can_read_post(user, root) and (root.author_id == user.id or user.is_curator)


def can_flag_post(user: User, post: Post) -> bool:
    return user.is_active and can_read_post(user, post) and post.hidden_at is None


def can_moderate(user: User, post: Post) -> bool:
    """Moderators (curators) hide and restore posts they can read, and dismiss their flags."""
    return user.is_curator and can_read_post(user, post)


def can_see_moderation_queue(user: User) -> bool:
    return user.is_curator


@reader_clause
def visible_channels_clause(user: User) -> ColumnElement[bool]:
    return or_(Channel.private.is_(False), membership.member_clause(user.id, Channel.id))


@reader_clause
def member_channels_clause(user: User) -> ColumnElement[bool]:
    """The channels ``user`` is a member of: visible_channels_clause narrowed to membership, which
    alone already implies it (membership is what opens a private channel), so one EXISTS."""
    return membership.member_clause(user.id, Channel.id)


@reader_clause
def shown_posts_clause(user: User) -> ColumnElement[bool]:
    """Posts of an already readable channel that ``user`` sees: not deleted, and not hidden by a
    moderator unless ``user`` moderates or wrote it (the SQL side of can_read_post)."""
    if user.is_curator:
        return Post.deleted_at.is_(None)
    return and_(Post.deleted_at.is_(None), or_(Post.hidden_at.is_(None), Post.author_id == user.id))


@reader_clause
def visible_posts_clause(user: User) -> ColumnElement[bool]:
    readable = select(Channel.id).where(visible_channels_clause(user))
    return and_(shown_posts_clause(user), Post.channel_id.in_(readable))


def channel_readers_clause(channel: Channel) -> ColumnElement[bool]:
    """Users who can read ``channel`` (for mention autocomplete): everyone active, or its members."""
    if not channel.private:
        return User.active.is_(True)
    members = select(channel_members.c.user_id).where(channel_members.c.channel_id == channel.id)
    return and_(User.active.is_(True), User.id.in_(members))


def access_channel(user: User, channel_id: int) -> Channel:
    return fetch_readable(user, Channel, channel_id, can_read_channel, "Channel")


def access_post(user: User, post_id: int) -> Post:
    return fetch_readable(user, Post, post_id, can_read_post, "Post")
