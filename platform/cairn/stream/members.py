"""Who is in a channel: private channel member management, and the people a mention can reach."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.actions import handle_for
from cairn.auth.models import User
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream import membership
from cairn.stream.models import Channel
from cairn.stream.unread import start_reading_at_latest

PREFIX_RE = re.compile(r"^[\w.\- ]{0,80}$")
FIRST_SHOWN = 30  # members named in the channel page's box; the rest are on the members page


def _managed(actor: User, channel_id: int) -> Channel:
    channel = perm.access_channel(actor, channel_id)
    if not channel.private:
        raise RuleViolation("Anyone can join a public channel: only private channels have members to manage.")
    if not perm.can_manage_members(actor, channel):
        raise Forbidden("Only the channel's creator or an admin can manage its members.")
    return channel


def add_member(actor: User, channel_id: int, user_id: int) -> Channel:
    with db.transaction() as s:
        channel = _managed(actor, channel_id)
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise NotFound("User not found.")
        if not membership.enroll(s, channel, user.id):
            raise Conflict(f"{user.display_name} is already a member.", {"user_id": ["already a member"]})
        start_reading_at_latest(s, channel.id, user.id)
        audit.record(s, actor.id, "channel.member_add", f"channel:{channel.id}", user_id=user.id)
    return channel


def remove_member(actor: User, channel_id: int, user_id: int) -> Channel:
    with db.transaction() as s:
        channel = _managed(actor, channel_id)
        if not membership.unenroll(s, channel, user_id):
            raise NotFound("This user is not a member of the channel.")
        audit.record(s, actor.id, "channel.member_remove", f"channel:{channel.id}", user_id=user_id)
    return channel


def members_page(actor: User, channel_id: int, cursor: str | None,
                 limit: int) -> tuple[Channel, list[User], str | None]:
    """The channel, if the actor may read it, a page of its members by display name, and the next
    page's cursor (None on the last). The channel comes back so that a page showing it need not
    ask for it (and check access) a second time."""
    channel = perm.access_channel(actor, channel_id)
    after = decode_cursor(cursor)
    found, more = membership.members_page(channel.id, after[0] if after else None, limit)
    return channel, found, (encode_cursor(found[-1].id) if more else None)


def first_members(channel: Channel, shown: int = FIRST_SHOWN) -> list[User]:
    """The channel page's members box: the first ``shown`` members by name (the rest: a link)."""
    return membership.members_page(channel.id, None, shown)[0]


def find_user(reference: str) -> User:
    """An active user by @handle or e-mail address (for the add-member form)."""
    ref = (reference or "").strip().lstrip("@").lower()
    if not ref:
        raise Invalid("Name someone to add.", {"user": ["an @handle or an e-mail address"]})
    q = select(User).where(User.active.is_(True))
    if "@" in ref:
        user = db.session.scalar(q.where(func.lower(User.email) == ref))
    else:
        user = next((u for u in db.session.scalars(q.where(func.lower(User.email).like(_like(ref) + "@%",
                                                                                      escape="\\")))
                     if handle_for(u) == ref), None)
    if user is None:
        raise NotFound(f"Nobody is called @{ref}.")
    return user


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def mention_candidates(actor: User, channel_id: int, prefix: str = "", limit: int = 8) -> list[User]:
    """Active users who can read the channel and whose handle or name starts with ``prefix``
    (a name's later words count too): a mention never suggests someone it would not reach."""
    channel = perm.access_channel(actor, channel_id)
    prefix = prefix.strip().lstrip("@").lower()
    if not PREFIX_RE.match(prefix):
        raise Invalid("Type the start of a name or handle.", {"prefix": ["letters, digits, . _ - only"]})
    q = select(User).where(perm.channel_readers_clause(channel))
    if prefix:
        like = _like(prefix)
        q = q.where(or_(func.lower(User.email).like(like + "%", escape="\\"),
                        func.lower(User.display_name).like(like + "%", escape="\\"),
                        func.lower(User.display_name).like("% " + like + "%", escape="\\")))
    return list(db.session.scalars(q.order_by(User.display_name, User.id).limit(limit)))
