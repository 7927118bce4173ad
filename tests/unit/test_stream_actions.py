"""Stream actions: channels, posts, threads, reactions, mentions and notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cairn.audit import AuditEvent
from cairn.auth import permissions as perm
from cairn.errors import Conflict, Forbidden, Invalid, NotFound
from cairn.extensions import db
from cairn.outbox import OutboxEvent
from cairn.stream import actions
from cairn.stream.models import Channel, Mention, Notification, Post, PostRevision, Reaction
from tests import factories as f


@pytest.fixture
def general(people):
    return f.channel(people.member, "general")


@pytest.fixture
def secret(people):
    return f.channel(people.member, "secret", private=True, members=(people.curator,))


# --- channels ---------------------------------------------------------------------------------

def test_channel_name_is_normalised_and_its_creator_becomes_a_member(people):
    chan = actions.create_channel(people.member, "  #Release-Notes ")
    assert chan.name == "release-notes"
    assert perm.is_member(people.member, chan)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target == f"channel:{chan.id}")) \
        == "channel.create"


@pytest.mark.parametrize("name", ["", "has space", "UPPER!", "-leading", "x" * 81])
def test_invalid_channel_names_are_refused_with_the_field_named(people, name):
    with pytest.raises(Invalid) as err:
        actions.create_channel(people.member, name)
    assert "name" in err.value.fields
    assert f.count(Channel) == 0


def test_a_second_channel_with_the_same_name_is_a_conflict(people, general):
    with pytest.raises(Conflict):
        actions.create_channel(people.other, "GENERAL")


def test_creating_a_channel_with_an_unknown_member_writes_nothing(people):
    before = f.counts()
    with pytest.raises(Invalid) as err:
        actions.create_channel(people.member, "team", private=True, member_ids=[people.other.id, 424242])
    assert "members" in err.value.fields
    assert f.counts() == before


def test_only_the_creator_or_an_admin_changes_a_channel_topic(people, general):
    assert actions.update_channel(people.member, general.id, topic="Anything").topic == "Anything"
    assert actions.update_channel(people.admin, general.id, topic="Admin says").topic == "Admin says"
    with pytest.raises(Forbidden):
        actions.update_channel(people.other, general.id, topic="Mine now")


def test_a_private_channel_cannot_be_joined_and_leaving_it_removes_access(people, secret):
    with pytest.raises(NotFound):
        actions.join_channel(people.other, secret.id)
    actions.leave_channel(people.curator, secret.id)
    with pytest.raises(NotFound):
        actions.timeline(people.curator, secret.id)


# --- posts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_an_empty_post_is_refused_and_nothing_is_written(people, general, body):
    before = f.counts()
    with pytest.raises(Invalid) as err:
        actions.create_post(people.member, general.id, body)
    assert err.value.fields == {"body": ["must not be empty"]}
    assert f.counts() == before


def test_a_post_longer_than_the_limit_is_refused(app, people, general):
    limit = app.config["MAX_BODY_CHARS"]
    with pytest.raises(Invalid) as err:
        actions.create_post(people.member, general.id, "x" * (limit + 1))
    assert "body" in err.value.fields
    assert actions.create_post(people.member, general.id, "x" * limit).id


def test_posting_in_an_unknown_or_unreadable_channel_is_not_found_and_writes_nothing(people, secret):
    before = f.counts()
    for channel_id in (secret.id, 999_999):
        with pytest.raises(NotFound):
            actions.create_post(people.other, channel_id, "hello")
    assert f.counts() == before


def test_a_post_stores_sanitised_html_and_an_index_event_in_the_same_transaction(people, general):
    before = f.count(OutboxEvent)
    post = actions.create_post(people.member, general.id, "**bold** <script>alert(1)</script>")
    assert "<strong>bold</strong>" in post.html and "<script" not in post.html
    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()[before:]
    assert [(e.kind, e.payload) for e in events] == [("index", {"doc": "post", "id": post.id})]
    assert events[0].processed_at is not None  # eager Celery indexed it after the commit


def test_posting_in_a_public_channel_joins_it(people, general):
    assert not perm.is_member(people.other, general)
    actions.create_post(people.other, general.id, "hi")
    f.refresh(general)
    assert perm.is_member(people.other, general)


def test_a_reply_to_a_reply_joins_the_root_thread_and_counts_there(people, general):
    root = f.post(people.member, general, "question")
    first = f.post(people.other, general, "answer", parent=root)
    second = f.post(people.member, general, "thanks", parent=first)
    assert second.parent_id == root.id
    f.refresh(root)
    assert root.reply_count == 2
    thread_root, replies = actions.thread(people.other, second.id)
    assert thread_root.id == root.id and [r.id for r in replies] == [first.id, second.id]


def test_a_reply_must_be_in_its_parents_channel(people, general):
    other_chan = f.channel(people.member, "random")
    root = f.post(people.member, general, "question")
    with pytest.raises(Invalid) as err:
        actions.create_post(people.member, other_chan.id, "lost", parent_id=root.id)
    assert "parent_id" in err.value.fields


def test_a_reply_notifies_the_thread_author_but_not_a_self_reply(people, general):
    root = f.post(people.member, general, "question")
    f.post(people.member, general, "bump", parent=root)
    assert f.count(Notification) == 0
    f.post(people.other, general, "answer", parent=root)
    note = db.session.scalar(select(Notification))
    assert (note.user_id, note.kind) == (people.member.id, "reply")


def test_mentions_notify_readers_only_and_never_the_author(people, secret):
    post = f.post(people.member, secret, "@curator and @other and @member look")
    mentioned = set(db.session.scalars(select(Mention.user_id).where(Mention.post_id == post.id)))
    assert mentioned == {people.curator.id, people.member.id}  # other cannot read #secret
    notified = set(db.session.scalars(select(Notification.user_id)))
    assert notified == {people.curator.id}


def test_editing_keeps_the_old_body_as_a_revision_and_notifies_new_mentions(people, general):
    post = f.post(people.member, general, "first")
    edited = actions.edit_post(people.member, post.id, "second, cc @other")
    assert edited.body == "second, cc @other" and edited.edited_at is not None
    assert [r.body for r in actions.post_revisions(people.other, post.id)] == ["first"]
    assert db.session.scalar(select(Notification.user_id)) == people.other.id
    # saving the same body again is a no-op: no new revision
    actions.edit_post(people.member, post.id, "second, cc @other")
    assert f.count(PostRevision) == 1


def test_only_the_author_edits_a_post(people, general):
    post = f.post(people.member, general, "mine")
    for user in (people.other, people.curator, people.admin):
        with pytest.raises(Forbidden):
            actions.edit_post(user, post.id, "hijacked")
    f.refresh(post)
    assert post.body == "mine" and f.count(PostRevision) == 0


def test_deleting_is_soft_audited_and_hides_the_post_everywhere(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    actions.delete_post(people.curator, reply.id)
    row = db.session.get(Post, reply.id)
    db.session.refresh(row)
    assert row.deleted_at is not None
    f.refresh(root)
    assert root.reply_count == 0
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "post.delete"))
    assert (audit.actor_id, audit.target, audit.data["author_id"]) == (people.curator.id, f"post:{reply.id}",
                                                                      people.other.id)
    _, replies = actions.thread(people.member, root.id)
    assert replies == []
    with pytest.raises(NotFound):
        actions.delete_post(people.curator, reply.id)


def test_another_member_cannot_delete_a_post(people, general):
    post = f.post(people.member, general, "mine")
    before = f.counts()
    with pytest.raises(Forbidden):
        actions.delete_post(people.other, post.id)
    assert f.counts() == before
    assert db.session.get(Post, post.id).deleted_at is None


# --- timeline and threads ---------------------------------------------------------------------

def test_timeline_pages_through_thread_roots_newest_first_without_gaps_or_repeats(people, general):
    roots = [f.post(people.member, general, f"post {i}") for i in range(7)]
    f.post(people.other, general, "a reply", parent=roots[0])
    actions.delete_post(people.member, roots[3].id)
    seen, cursor = [], None
    while True:
        page, cursor = actions.timeline(people.other, general.id, cursor, limit=2)
        seen += [p.id for p in page]
        if cursor is None:
            break
    expected = [p.id for p in reversed(roots) if p.id != roots[3].id]
    assert seen == expected


def test_timeline_of_a_private_channel_is_not_found_for_non_members(people, secret):
    f.post(people.member, secret, "psst")
    with pytest.raises(NotFound):
        actions.timeline(people.other, secret.id)
    assert len(actions.timeline(people.curator, secret.id)[0]) == 1


# --- reactions --------------------------------------------------------------------------------

def test_reacting_twice_with_the_same_emoji_is_a_conflict_and_adds_nothing(people, general):
    post = f.post(people.member, general, "nice")
    actions.add_reaction(people.other, post.id, "👍")
    before = f.counts()
    with pytest.raises(Conflict):
        actions.add_reaction(people.other, post.id, "👍")
    assert f.counts() == before
    assert actions.add_reaction(people.member, post.id, "👍").reaction_summary() == [
        {"emoji": "👍", "count": 2, "users": [people.other.id, people.member.id],
         "names": ["Olga Other", "Milo Member"]}]


def test_short_names_with_and_without_colons_are_the_same_reaction(people, general):
    post = f.post(people.member, general, "nice")
    actions.add_reaction(people.other, post.id, ":tada:")
    with pytest.raises(Conflict):
        actions.add_reaction(people.other, post.id, "tada")
    assert db.session.scalar(select(Reaction.emoji)) == "tada"


def test_invalid_emoji_are_refused(people, general):
    post = f.post(people.member, general, "nice")

    def check(emoji):
        with pytest.raises(Invalid) as err:
            actions.add_reaction(people.other, post.id, emoji)
        assert "emoji" in err.value.fields

    f.each(["", "<b>", "two words", "a" * 41, "👍x", "12345678901234567👍", "\u200d"], check)
    assert f.count(Reaction) == 0


def test_real_emoji_and_short_names_are_accepted(people, general):
    post = f.post(people.member, general, "nice")
    emoji = ["👍", "🇫🇷", "👩‍💻", "❤️", ":+1:", "thumbs_up"]
    f.each(emoji, lambda e: actions.add_reaction(people.other, post.id, e))
    f.refresh(post)
    assert [r["emoji"] for r in post.reaction_summary()] == ["👍", "🇫🇷", "👩‍💻", "❤️", "+1", "thumbs_up"]


def test_removing_a_reaction_that_was_never_made_is_not_found(people, general):
    post = f.post(people.member, general, "nice")
    with pytest.raises(NotFound):
        actions.remove_reaction(people.other, post.id, "👍")


def test_toggling_adds_then_removes_and_only_notifies_other_authors(people, general):
    post = f.post(people.member, general, "nice")
    assert actions.toggle_reaction(people.other, post.id, "🎉").reaction_summary()[0]["count"] == 1
    assert actions.toggle_reaction(people.other, post.id, "🎉").reaction_summary() == []
    actions.toggle_reaction(people.member, post.id, "🎉")  # own post: no notification
    kinds = db.session.scalars(select(Notification.user_id)).all()
    assert kinds == [people.member.id]


def test_nobody_reacts_to_a_post_they_cannot_read(people, secret):
    post = f.post(people.member, secret, "psst")
    with pytest.raises(NotFound):
        actions.add_reaction(people.other, post.id, "👍")


# --- notifications ----------------------------------------------------------------------------

def test_notifications_about_posts_one_can_no_longer_read_disappear(people, secret, general):
    private = f.post(people.member, secret, "@curator see this")
    public = f.post(people.member, general, "@curator and this")
    assert actions.unread_count(people.curator) == 2
    actions.leave_channel(people.curator, secret.id)
    items, _ = actions.notifications(people.curator)
    assert [n.post_id for n in items] == [public.id]
    assert actions.unread_count(people.curator) == 1
    actions.delete_post(people.member, public.id)
    assert actions.notifications(people.curator)[0] == [] and actions.unread_count(people.curator) == 0
    assert private.id not in [n.post_id for n in actions.notifications(people.curator)[0]]


def test_marking_read_touches_only_the_callers_own_notifications(people, general):
    f.post(people.member, general, "@curator @other")
    mine = [n.id for n in actions.notifications(people.curator)[0]]
    theirs = [n.id for n in actions.notifications(people.other)[0]]
    assert actions.mark_notifications_read(people.curator, theirs) == 0
    assert actions.unread_count(people.other) == 1
    assert actions.mark_notifications_read(people.curator, mine) == 1
    assert actions.notifications(people.curator, unread_only=True)[0] == []
    assert len(actions.notifications(people.curator)[0]) == 1


def test_notifications_about_an_article_one_cannot_read_are_neither_listed_nor_counted(people):
    from cairn.auth import actions as auth

    eng = f.group("eng", people.curator)
    space = f.space(people.curator, "Eng", groups=(eng,))
    art = f.article(people.curator, space, "Hidden plans", status="published")
    with db.transaction() as s:
        actions.notify(s, people.other.id, "promotion", "Hidden plans was published", article_id=art.id)
        actions.notify(s, people.other.id, "promotion", "Something else")
    assert [n.text for n in actions.notifications(people.other)[0]] == ["Something else"]
    assert actions.unread_count(people.other) == 1
    auth.set_group_member(None, eng.id, people.other.id, True)
    f.refresh(people.other)
    assert actions.unread_count(people.other) == 2


def test_a_thread_whose_first_post_was_deleted_takes_no_more_replies(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    actions.delete_post(people.member, root.id)
    before = f.counts()
    with pytest.raises(NotFound):
        actions.create_post(people.other, general.id, "a late reply", parent_id=reply.id)
    assert f.counts() == before
