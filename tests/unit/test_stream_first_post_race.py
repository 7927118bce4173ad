"""A first post joins its channel without colliding with a concurrent first post of the same user
(the load bench's 50 clients found it: two clients of one user posting at once got a 409)."""

from __future__ import annotations

from sqlalchemy import func, select

from cairn.auth import permissions as perm
from cairn.extensions import db
from cairn.stream import actions
from cairn.stream.models import Post, channel_members


def test_a_first_post_is_accepted_when_a_concurrent_first_post_joined_the_channel_meanwhile(app, people):
    channel = actions.create_channel(people.admin, "race")
    assert not perm.is_member(people.member, channel)  # what this request saw before posting
    with db.engine.begin() as other_request:  # the other client's first post commits its join first
        other_request.execute(channel_members.insert().values(channel_id=channel.id, user_id=people.member.id))

    post = actions.create_post(people.member, channel.id, "two tabs, one join")

    db.session.rollback()
    assert db.session.get(Post, post.id) is not None
    assert db.session.scalar(select(func.count()).select_from(channel_members).where(
        channel_members.c.channel_id == channel.id, channel_members.c.user_id == people.member.id)) == 1
