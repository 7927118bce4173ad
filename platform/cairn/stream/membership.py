"""Who is in a channel, asked of and written to the channel_members table: one row (is this
reader a member?), a count, or a page of members - never the whole list, which a company-wide
channel holds by the thousand. The rules (who may read, join, manage) are cairn.auth.permissions'.

Membership is asked a few hundred times per channel page (every post card asks what its reader
may do, and each of those asks whether they read the channel), so an answer is kept in the
session until the session writes anything (a flush, a statement other than a SELECT, a commit or
a rollback) or a channel of it is expired or refreshed: a member added or removed inside a
request is seen by the next question.
"""

from __future__ import annotations

from sqlalchemy import delete, event, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, lazyload
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.extensions import db
from cairn.stream.models import Channel, channel_members

MEMO_KEY = "cairn.membership"


def member_clause(user_id: int, channel_id) -> ColumnElement[bool]:
    """EXISTS a channel_members row for the user in the channel (``channel_id``: a value or a column)."""
    return exists().where(channel_members.c.channel_id == channel_id, channel_members.c.user_id == user_id)


def is_member(user_id: int, channel: Channel) -> bool:
    """One EXISTS per (user, channel) and session write; see the module's docstring."""
    if channel.id is None:
        return False
    memo = db.session.info.setdefault(MEMO_KEY, {})
    key = (channel.id, user_id)
    if key not in memo:
        memo[key] = bool(db.session.scalar(select(member_clause(user_id, channel.id))))
    return memo[key]


def channels_of(user_id: int, channel_ids: list[int]) -> set[int]:
    """Which of ``channel_ids`` the user is a member of (one query)."""
    if not channel_ids:
        return set()
    return set(db.session.scalars(select(channel_members.c.channel_id).where(
        channel_members.c.user_id == user_id, channel_members.c.channel_id.in_(channel_ids))))


def member_counts(channel_ids: list[int]) -> dict[int, int]:
    """{channel id: members} in one grouped COUNT (a channel with none is missing: 0)."""
    if not channel_ids:
        return {}
    rows = db.session.execute(select(channel_members.c.channel_id, func.count())
                              .where(channel_members.c.channel_id.in_(channel_ids))
                              .group_by(channel_members.c.channel_id))
    return {channel_id: n for channel_id, n in rows}


def member_count(channel_id: int) -> int:
    return member_counts([channel_id]).get(channel_id, 0)


def members_page(channel_id: int, after_id: int | None, limit: int) -> tuple[list[User], bool]:
    """Up to ``limit`` members by display name (then id), after member ``after_id`` (the previous
    page's last: the cursor holds the id, not the name, so it stays short whatever the name); and
    whether more follow. Their groups stay unloaded (nobody shows them)."""
    q = (select(User).join(channel_members, channel_members.c.user_id == User.id)
         .where(channel_members.c.channel_id == channel_id)
         .order_by(User.display_name, User.id).limit(limit + 1).options(lazyload(User.groups)))
    if after_id is not None:
        previous = aliased(User)
        name = select(previous.display_name).where(previous.id == after_id).scalar_subquery()
        q = q.where(tuple_(User.display_name, User.id) > tuple_(name, after_id))
    users = list(db.session.scalars(q))
    return users[:limit], len(users) > limit


def enroll(s: Session, channel: Channel, user_id: int) -> bool:
    """Inside a caller's transaction: make the user a member; False if they already were. One
    statement, so two first posts (or joins) at once cannot collide."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg reports -1 for this statement whether or not it inserted
    added = s.scalar(insert(channel_members).values(channel_id=channel.id, user_id=user_id)
                     .on_conflict_do_nothing().returning(channel_members.c.user_id))
    s.expire(channel, ["members"])  # a member list loaded before no longer holds
    return added is not None


def unenroll(s: Session, channel: Channel, user_id: int) -> bool:
    """Inside a caller's transaction: the user is no longer a member; False if they were not."""
    removed = s.scalar(delete(channel_members).where(channel_members.c.channel_id == channel.id,
                                                     channel_members.c.user_id == user_id)
                       .returning(channel_members.c.user_id))
    s.expire(channel, ["members"])
    return removed is not None


def _forget(session: Session, *_args) -> None:
    session.info.pop(MEMO_KEY, None)


def _forget_on_write(state) -> None:
    if not state.is_select:
        _forget(state.session)


def _forget_with_channel(state, *_args) -> None:
    """A channel expired (a refresh expires it first: how a session sees another's writes): its
    members too. (The instance's state, not the instance: a rollback expires states whose object
    is gone.) Not on "refresh": loading a channel's expired columns is no news about members."""
    if state.session is not None:
        _forget(state.session)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget)
event.listen(Session, "do_orm_execute", _forget_on_write)
event.listen(Channel, "expire", _forget_with_channel, raw=True)
