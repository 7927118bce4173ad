"""Moderation: flag with a reason, hide and restore by moderators, dismiss, the queue; all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cairn import search
from cairn.audit import AuditEvent
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.stream import actions, moderation
from cairn.stream.models import Notification, PostFlag
from tests import factories as f


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other, people.curator))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_member_flags_a_post_with_a_reason_and_it_is_audited(people, general):
    post = f.post(people.other, general, "buy cheap watches")
    flag = moderation.flag_post(people.member, post.id, "  spam,\n not work related ")
    assert flag.reason == "spam, not work related" and flag.resolved_at is None
    [event] = _audit("post.flag")
    assert (event.actor_id, event.target, event.data["reason"]) == (people.member.id, f"post:{post.id}",
                                                                    "spam, not work related")


def test_flagging_twice_is_a_conflict_and_adds_nothing(people, general):
    post = f.post(people.other, general, "spam")
    moderation.flag_post(people.member, post.id, "spam")
    before = f.counts()
    with pytest.raises(Conflict):
        moderation.flag_post(people.member, post.id, "still spam")
    assert f.counts() == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_flag_needs_a_reason_of_reasonable_length(people, general, reason):
    post = f.post(people.other, general, "spam")
    with pytest.raises(Invalid) as err:
        moderation.flag_post(people.member, post.id, reason)
    assert "reason" in err.value.fields
    assert f.count(PostFlag) == 0


def test_hiding_removes_the_post_for_members_and_the_index_but_not_for_its_author_or_moderators(people, general):
    root = f.post(people.other, general, "zanzibar offensive words")
    reply = f.post(people.member, general, "a reply under it", parent=root)
    moderation.flag_post(people.member, root.id, "rude")
    assert search.query(people.member, "zanzibar").total == 1
    moderation.hide_post(people.curator, root.id, "rule 2: be kind")
    # members: gone from the timeline, the post, the thread and search
    assert actions.timeline(people.member, general.id)[0] == []
    with pytest.raises(NotFound):
        actions.thread(people.member, reply.id)
    assert search.query(people.member, "zanzibar").total == 0
    assert search.query(people.curator, "zanzibar").total == 0  # out of the index for everyone
    # the author and moderators still see it (the template shows them a notice)
    assert [p.id for p in actions.timeline(people.other, general.id)[0]] == [root.id]
    assert [p.id for p in actions.timeline(people.curator, general.id)[0]] == [root.id]
    # the flag is resolved, the author told why, and it is audited
    assert db.session.scalar(select(PostFlag.resolution)) == "hidden"
    note = db.session.scalar(select(Notification).where(Notification.kind == "moderation"))
    assert note.user_id == people.other.id and "rule 2" in note.text
    [event] = _audit("post.hide")
    assert (event.actor_id, event.data["author_id"], event.data["flags"]) == (people.curator.id, people.other.id, 1)


def test_a_hidden_reply_disappears_from_the_thread_for_members_only(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "bad answer", parent=root)
    moderation.hide_post(people.curator, reply.id)
    assert actions.thread(people.member, root.id)[1] == []
    assert [r.id for r in actions.thread(people.other, root.id)[1]] == [reply.id]


def test_restoring_brings_the_post_back_everywhere_and_is_audited(people, general):
    post = f.post(people.other, general, "zanzibar borderline")
    moderation.hide_post(people.curator, post.id)
    moderation.restore_post(people.curator, post.id)
    assert [p.id for p in actions.timeline(people.member, general.id)[0]] == [post.id]
    assert search.query(people.member, "zanzibar").total == 1
    assert [e.target for e in _audit("post.restore")] == [f"post:{post.id}"]


def test_members_cannot_hide_restore_or_dismiss_and_nothing_is_written(people, general):
    post = f.post(people.other, general, "spam")
    moderation.flag_post(people.member, post.id, "spam")
    before = f.counts()
    for verb in (moderation.hide_post, moderation.restore_post, moderation.dismiss_flags):
        with pytest.raises(Forbidden):
            verb(people.member, post.id)
    with pytest.raises(Forbidden):
        moderation.moderation_queue(people.member)
    assert f.counts() == before


def test_hiding_twice_or_restoring_a_visible_post_is_a_conflict(people, general):
    post = f.post(people.other, general, "spam")
    with pytest.raises(Conflict):
        moderation.restore_post(people.curator, post.id)
    moderation.hide_post(people.curator, post.id)
    with pytest.raises(Conflict):
        moderation.hide_post(people.curator, post.id)
    with pytest.raises(RuleViolation):
        moderation.flag_post(people.curator, post.id, "again")  # a hidden post is already handled


def test_dismissing_closes_the_open_flags_and_keeps_the_post(people, general):
    post = f.post(people.other, general, "an opinion")
    moderation.flag_post(people.member, post.id, "disagree")
    moderation.flag_post(people.curator, post.id, "disagree too")
    assert moderation.open_flag_count(people.curator) == 1
    assert moderation.dismiss_flags(people.curator, post.id) == 2
    assert moderation.open_flag_count(people.curator) == 0
    assert [p.id for p in actions.timeline(people.member, general.id)[0]] == [post.id]
    with pytest.raises(Conflict):
        moderation.dismiss_flags(people.curator, post.id)
    assert [e.data["flags"] for e in _audit("post.flags_dismiss")] == [2]


def test_the_queue_lists_flagged_then_hidden_posts_newest_first_with_a_cursor(people, general):
    posts = [f.post(people.other, general, f"spam {i}") for i in range(3)]
    for post in posts:
        moderation.flag_post(people.member, post.id, "spam")
    first, cursor = moderation.moderation_queue(people.curator, limit=2)
    rest, end = moderation.moderation_queue(people.curator, cursor=cursor, limit=2)
    assert [i.post.id for i in first + rest] == [p.id for p in reversed(posts)] and end is None
    assert [fl.reason for fl in first[0].open_flags] == ["spam"]
    moderation.hide_post(people.curator, posts[0].id)
    assert [i.post.id for i in moderation.moderation_queue(people.curator, "hidden")[0]] == [posts[0].id]
    assert [i.post.id for i in moderation.moderation_queue(people.curator)[0]] == [posts[2].id, posts[1].id]
    with pytest.raises(Invalid):
        moderation.moderation_queue(people.curator, "everything")


def test_the_queue_never_shows_a_private_channels_posts_to_a_moderator_outside_it(people):
    secret = f.channel(people.member, "secret", private=True, members=(people.other,))
    post = f.post(people.other, secret, "zanzibar")
    moderation.flag_post(people.member, post.id, "spam")
    assert moderation.moderation_queue(people.curator)[0] == []
    assert moderation.open_flag_count(people.curator) == 0
    with pytest.raises(NotFound):
        moderation.hide_post(people.curator, post.id)
    inside = f.user("mod@example.com", "curator")
    from cairn.stream import members

    members.add_member(people.member, secret.id, inside.id)
    assert [i.post.id for i in moderation.moderation_queue(inside)[0]] == [post.id]


def test_promoting_a_thread_leaves_out_its_hidden_replies_and_a_hidden_post_cannot_be_promoted(people, general):
    from cairn.curation import actions as curation
    from cairn.kb.models import Article

    space = f.space(people.curator, "Handbook")
    root = f.post(people.member, general, "How do I reset my VPN token?")
    f.post(people.other, general, "Open the VPN portal and press Reset.", parent=root)
    rude = f.post(people.other, general, "zanzibar insult", parent=root)
    moderation.hide_post(people.curator, rude.id)
    curation.request_promotion(people.curator, [root.id], space_id=space.id)
    body = db.session.scalar(select(Article.body))
    assert "VPN portal" in body and "zanzibar" not in body
    with pytest.raises(Forbidden):
        curation.request_promotion(people.curator, [rude.id], space_id=space.id)
