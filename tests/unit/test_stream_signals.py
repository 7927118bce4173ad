"""Stream signals: unread markers, accepted answers, bookmarks, thread views, channel members,
mention lookup and the rendered preview."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cairn import search
from cairn.audit import AuditEvent
from cairn.auth import permissions as perm
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.stream import actions, members, rendering, signals, unread
from cairn.stream.models import Bookmark, ChannelRead, Notification, Post, ThreadAnswer
from tests import factories as f


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other, people.curator))


@pytest.fixture
def secret(people):
    return f.channel(people.member, "secret", private=True, members=(people.curator,))


def _views(post) -> int:
    db.session.expire_all()
    return db.session.get(Post, post.id).view_count


# --- unread markers ---------------------------------------------------------------------------

def test_unread_counts_count_other_peoples_new_thread_roots_until_the_channel_is_read(people, general):
    f.post(people.member, general, "mine does not count")
    root = f.post(people.other, general, "one")
    f.post(people.other, general, "two")
    f.post(people.other, general, "a reply is not a timeline message", parent=root)
    assert unread.unread_counts(people.member) == {general.id: 2}
    assert unread.mark_read(people.member, general.id) > 0
    assert unread.unread_counts(people.member) == {}
    f.post(people.other, general, "three")
    assert unread.unread_counts(people.member) == {general.id: 1}


def test_marking_read_up_to_a_post_leaves_later_ones_unread_and_never_moves_back(people, general):
    first = f.post(people.other, general, "one")
    f.post(people.other, general, "two")
    assert unread.mark_read(people.member, general.id, first.id) == first.id
    assert unread.unread_counts(people.member) == {general.id: 1}
    latest = unread.mark_read(people.member, general.id)
    assert unread.mark_read(people.member, general.id, first.id) == latest  # not backwards
    assert unread.unread_counts(people.member) == {}


def test_marking_read_with_a_post_of_another_channel_is_refused_and_writes_nothing(people, general, secret):
    elsewhere = f.post(people.member, secret, "psst")
    before = f.counts()
    with pytest.raises(Invalid) as err:
        unread.mark_read(people.member, general.id, elsewhere.id)
    assert "post_id" in err.value.fields
    assert f.counts() == before


def test_joining_a_channel_starts_with_nothing_unread(people):
    chan = f.channel(people.member, "random")
    for i in range(3):
        f.post(people.member, chan, f"old news {i}")
    actions.join_channel(people.other, chan.id)
    assert unread.unread_counts(people.other) == {}
    f.post(people.member, chan, "fresh")
    assert unread.unread_counts(people.other) == {chan.id: 1}


def test_unread_counts_skip_channels_one_is_not_in_and_channels_one_left(people, general, secret):
    f.post(people.member, secret, "psst")
    outsider_chan = f.channel(people.admin, "elsewhere")
    f.post(people.admin, outsider_chan, "not my channel")
    assert unread.unread_counts(people.curator) == {secret.id: 1}
    assert unread.unread_counts(people.other) == {}
    actions.leave_channel(people.curator, secret.id)
    assert unread.unread_counts(people.curator) == {}
    f.post(people.member, general, "news")
    assert unread.unread_counts(people.other) == {general.id: 1}
    actions.leave_channel(people.other, general.id)  # public: they still read it, but it is not theirs
    assert unread.unread_counts(people.other) == {}


def test_a_hidden_or_deleted_post_is_not_counted_as_unread(people, general):
    from cairn.stream import moderation

    gone = f.post(people.other, general, "deleted")
    hidden = f.post(people.other, general, "hidden")
    actions.delete_post(people.other, gone.id)
    moderation.hide_post(people.curator, hidden.id)
    assert unread.unread_counts(people.member) == {}


def test_one_channels_unread_count_is_its_entry_in_every_channels_counts(people, general, secret):
    from cairn.stream import moderation

    elsewhere = f.channel(people.admin, "elsewhere")
    f.post(people.member, secret, "mine does not count")
    f.post(people.curator, secret, "psst")
    f.post(people.other, general, "one")
    gone, hidden = f.post(people.other, general, "deleted"), f.post(people.other, general, "hidden")
    f.post(people.admin, elsewhere, "news for nobody else")
    actions.delete_post(people.other, gone.id)
    moderation.hide_post(people.curator, hidden.id)  # the curator still sees it
    readers = {"member": people.member, "curator": people.curator, "other": people.other}

    def every_count() -> dict[str, dict[int, int]]:
        counts = {name: unread.unread_counts(user) for name, user in readers.items()}
        alone = {name: {c.id: unread.unread_count(user, c.id) for c in (general, secret, elsewhere)}
                 for name, user in readers.items()}
        assert {name: {c: n for c, n in found.items() if n} for name, found in alone.items()} == counts
        return counts

    assert every_count() == {"member": {general.id: 1, secret.id: 1}, "curator": {general.id: 2, secret.id: 1},
                             "other": {}}
    unread.mark_read(people.member, general.id)
    unread.mark_read(people.curator, general.id)
    f.post(people.other, general, "two")
    f.post(people.other, general, "three")
    actions.leave_channel(people.curator, secret.id)
    assert every_count() == {"member": {general.id: 2, secret.id: 1}, "curator": {general.id: 2}, "other": {}}


def test_unread_counts_stop_at_the_cap(people, general, monkeypatch):
    monkeypatch.setattr(unread, "COUNT_CAP", 3)
    for i in range(5):
        f.post(people.other, general, f"post {i}")
    assert unread.unread_counts(people.member) == {general.id: 3}


def test_read_position_is_none_for_a_non_member_and_not_found_for_a_private_outsider(people, general, secret):
    public = f.channel(people.admin, "open")
    assert unread.read_position(people.member, public.id) is None
    assert unread.read_position(people.member, general.id) == 0
    with pytest.raises(NotFound):
        unread.read_position(people.other, secret.id)
    with pytest.raises(NotFound):
        unread.mark_read(people.other, secret.id)
    assert db.session.scalar(select(ChannelRead).where(ChannelRead.user_id == people.other.id,
                                                       ChannelRead.channel_id == secret.id)) is None


# --- accepted answers -------------------------------------------------------------------------

def test_the_thread_author_accepts_an_answer_which_is_indexed_audited_and_notified(people, general):
    root = f.post(people.member, general, "How do I rotate the key?")
    reply = f.post(people.other, general, "Run vault rotate", parent=root)
    answer = signals.mark_answer(people.member, reply.id)
    assert (answer.root_id, answer.answer_id) == (root.id, reply.id)
    seen = signals.signals_for(people.curator, [root, reply])
    assert seen.answer_of(root) == reply.id and seen.is_answer(reply) and not seen.is_answer(root)
    hits = search.query(people.curator, "is:answer")
    assert [h["id"] for h in hits.items] == [reply.id]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "post.answer"))
    assert (event.actor_id, event.target) == (people.member.id, f"post:{reply.id}")
    note = db.session.scalar(select(Notification).where(Notification.kind == "answer"))
    assert (note.user_id, note.post_id) == (people.other.id, reply.id)


def test_accepting_another_reply_replaces_the_answer_so_a_thread_has_at_most_one(people, general):
    root = f.post(people.member, general, "question")
    first = f.post(people.other, general, "answer one", parent=root)
    second = f.post(people.curator, general, "answer two", parent=root)
    signals.mark_answer(people.member, first.id)
    signals.mark_answer(people.curator, second.id)  # a curator may decide too
    assert db.session.scalars(select(ThreadAnswer.answer_id)).all() == [second.id]
    assert [h["id"] for h in search.query(people.member, "is:answer").items] == [second.id]
    signals.mark_answer(people.member, second.id)  # again: no change, no second row
    assert f.count(ThreadAnswer) == 1


def test_unmarking_the_answer_takes_it_out_of_is_answer(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    signals.mark_answer(people.member, reply.id)
    signals.unmark_answer(people.member, reply.id)
    assert f.count(ThreadAnswer) == 0
    assert search.query(people.member, "is:answer").total == 0
    with pytest.raises(NotFound):
        signals.unmark_answer(people.member, reply.id)


def test_nobody_else_accepts_an_answer_in_someone_elses_thread(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    before = f.counts()
    with pytest.raises(Forbidden):
        signals.mark_answer(people.other, reply.id)
    assert f.counts() == before


def test_a_thread_root_cannot_be_its_own_answer(people, general):
    root = f.post(people.member, general, "question")
    with pytest.raises(RuleViolation):
        signals.mark_answer(people.member, root.id)
    assert f.count(ThreadAnswer) == 0


def test_an_answer_hidden_by_a_moderator_is_not_shown_as_the_answer_to_members(people, general):
    from cairn.stream import moderation

    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    signals.mark_answer(people.member, reply.id)
    moderation.hide_post(people.curator, reply.id)
    assert signals.signals_for(people.member, [root]).answer_of(root) is None
    assert signals.signals_for(people.curator, [root]).answer_of(root) == reply.id
    assert search.query(people.curator, "is:answer").total == 0


# --- bookmarks --------------------------------------------------------------------------------

def test_bookmarks_are_per_user_newest_first_and_paged_by_cursor(people, general):
    posts = [f.post(people.other, general, f"tip {i}") for i in range(3)]
    for post in posts:
        signals.add_bookmark(people.member, post.id)
    signals.add_bookmark(people.curator, posts[0].id)
    page, cursor = signals.bookmarks(people.member, limit=2)
    rest, end = signals.bookmarks(people.member, cursor, limit=2)
    assert [b.post_id for b in page + rest] == [p.id for p in reversed(posts)] and end is None
    assert [b.post_id for b in signals.bookmarks(people.curator)[0]] == [posts[0].id]


def test_saving_twice_is_a_conflict_and_unsaving_an_unsaved_post_is_not_found(people, general):
    post = f.post(people.other, general, "tip")
    signals.add_bookmark(people.member, post.id)
    with pytest.raises(Conflict):
        signals.add_bookmark(people.member, post.id)
    signals.remove_bookmark(people.member, post.id)
    with pytest.raises(NotFound):
        signals.remove_bookmark(people.member, post.id)
    assert f.count(Bookmark) == 0


def test_a_saved_post_one_can_no_longer_read_drops_out_of_the_list(people, secret):
    post = f.post(people.member, secret, "psst")
    signals.add_bookmark(people.curator, post.id)
    assert len(signals.bookmarks(people.curator)[0]) == 1
    actions.leave_channel(people.curator, secret.id)
    assert signals.bookmarks(people.curator)[0] == []


# --- thread views -----------------------------------------------------------------------------

def test_a_thread_view_by_someone_else_adds_one_and_the_authors_own_does_not(people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "answer", parent=root)
    signals.record_thread_view(people.member, root)
    assert _views(root) == 0
    signals.record_thread_view(people.other, root)
    signals.record_thread_view(people.curator, root)
    signals.record_thread_view(people.curator, reply)  # replies have no counter of their own
    assert _views(root) == 2 and _views(reply) == 0


# --- members and mentions ---------------------------------------------------------------------

def test_the_creator_adds_and_removes_private_members_and_it_is_audited(people, secret):
    members.add_member(people.member, secret.id, people.other.id)
    assert len(actions.timeline(people.other, secret.id)[0]) == 0  # can read it now
    members.remove_member(people.member, secret.id, people.other.id)
    with pytest.raises(NotFound):
        actions.timeline(people.other, secret.id)
    actions_seen = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"channel:{secret.id}")
                                      .order_by(AuditEvent.id)).all()
    assert actions_seen[-2:] == ["channel.member_add", "channel.member_remove"]


def test_only_the_creator_manages_members_and_public_channels_have_none_to_manage(people, secret):
    public = f.channel(people.member, "open")
    before = f.counts()
    with pytest.raises(Forbidden):
        members.add_member(people.curator, secret.id, people.other.id)  # a member, not the creator
    with pytest.raises(NotFound):
        members.add_member(people.other, secret.id, people.other.id)  # cannot even see it
    with pytest.raises(NotFound):
        members.add_member(people.admin, secret.id, people.other.id)  # private means private, for admins too
    with pytest.raises(RuleViolation):
        members.add_member(people.member, public.id, people.other.id)
    assert f.counts() == before


def test_an_admin_who_is_a_member_manages_a_private_channel_someone_else_created(people):
    leads = f.channel(people.curator, "leads", private=True, members=(people.admin,))
    members.add_member(people.admin, leads.id, people.other.id)
    f.refresh(leads)
    assert perm.is_member(people.other, leads)


def test_adding_an_unknown_or_present_member_is_refused(people, secret):
    with pytest.raises(NotFound):
        members.add_member(people.member, secret.id, 999_999)
    with pytest.raises(Conflict):
        members.add_member(people.member, secret.id, people.curator.id)
    with pytest.raises(NotFound):
        members.remove_member(people.member, secret.id, people.other.id)


def test_mention_lookup_offers_only_people_who_can_read_the_channel(people, secret, general):
    # by display name: Carla Curator, Milo Member (Olga Other is not in #secret)
    assert [u.id for u in members.mention_candidates(people.member, secret.id, "")] == [people.curator.id,
                                                                                       people.member.id]
    assert members.mention_candidates(people.member, secret.id, "oth") == []
    assert [u.id for u in members.mention_candidates(people.member, general.id, "oth")] == [people.other.id]
    assert [u.id for u in members.mention_candidates(people.member, general.id, "@Cur")] == [people.curator.id]
    with pytest.raises(NotFound):
        members.mention_candidates(people.other, secret.id, "cur")


def test_mention_lookup_matches_later_words_of_a_name_and_escapes_wildcards(people, general):
    assert [u.id for u in members.mention_candidates(people.member, general.id, "curator")] == [people.curator.id]
    with pytest.raises(Invalid):
        members.mention_candidates(people.member, general.id, "%")
    assert members.mention_candidates(people.member, general.id, "_") == []


def test_finding_a_user_by_handle_or_email(people):
    assert members.find_user("@other").id == people.other.id
    assert members.find_user("OTHER@example.com").id == people.other.id
    with pytest.raises(NotFound):
        members.find_user("@nobody")


# --- rendering --------------------------------------------------------------------------------

def test_the_preview_is_the_sanitised_html_with_tags_linked_and_mentions_marked(app):
    with app.test_request_context():
        html = rendering.preview("**bold** #vpn @milo <script>x</script>\n\n`#not-a-tag` [l](https://e.x/#frag)")
    assert "<strong>bold</strong>" in html
    assert '<a class="hashtag" href="/search?q=tag%3Avpn">#vpn</a>' in html
    assert '<span class="mention">@milo</span>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<code>#not-a-tag</code>" in html and 'href="https://e.x/#frag"' in html


def test_the_preview_of_an_empty_body_is_empty_and_an_oversized_one_is_refused(app):
    with app.test_request_context():
        assert rendering.preview("  \n") == ""
        with pytest.raises(Invalid) as err:
            rendering.preview("x" * (app.config["MAX_BODY_CHARS"] + 1))
    assert "body" in err.value.fields
