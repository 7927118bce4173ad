"""The stream's web pages: unread divider and sidebar counts, accepted answers, saved posts, history,
notifications that lead to their post, moderation, members, clickable tags; forms need CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cairn.extensions import db
from cairn.stream import actions, moderation, signals
from cairn.stream.models import Notification, PostFlag
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other, people.curator))


def _html(resp) -> str:
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
    return resp.get_data(as_text=True)


def _sidebar_count(page: str, channel_name: str) -> str | None:
    m = re.search(rf"<span>{channel_name}</span>\s*</span>\s*<span class=\"count-pill\"[^>]*>(\d+\+?)</span>", page)
    return m.group(1) if m else None


def test_the_sidebar_names_the_readable_channels_and_spaces_with_a_lock_on_the_closed_ones(client, login, people,
                                                                                         general):
    eng = f.group("eng", people.member)
    f.channel(people.member, "secret", private=True)
    f.channel(people.curator, "hidden-away", private=True)
    f.space(people.curator, "Handbook")
    f.space(people.curator, "Engineering", groups=(eng,))
    f.space(people.curator, "Board", groups=(f.group("board", people.curator),))
    login(people.member)
    nav = _html(client.get(f"/channels/{general.id}")).split('<nav class="sidebar"')[1].split("</nav>")[0]
    channels = re.findall(r'<svg class="icon icon-(lock|hash)"[^>]*>.*?</svg>\s*<span>([\w-]+)</span>', nav)
    assert channels == [("hash", "general"), ("lock", "secret")]
    spaces = re.findall(r'<span>(\w+)</span>(\s*<svg class="icon icon-lock")?', nav.split("Knowledge base")[1])
    assert [(name, bool(lock)) for name, lock in spaces] == [("Engineering", True), ("Handbook", False)]


def test_the_sidebar_counts_unread_posts_and_the_timeline_marks_where_they_start(client, login, people, general):
    old = f.post(people.member, general, "seen already")
    actions.join_channel(people.other, general.id)
    from cairn.stream import unread

    unread.mark_read(people.other, general.id)
    new = f.post(people.member, general, "fresh news")
    login(people.other)
    assert _sidebar_count(_html(client.get("/channels")), "general") == "1"
    page = _html(client.get(f"/channels/{general.id}"))
    divider, fresh, seen = page.find("data-new-divider"), page.find(f'id="post-{new.id}"'), page.find(f'id="post-{old.id}"')
    assert seen < divider < fresh
    assert _sidebar_count(page, "general") is None  # reading the channel marked it read
    assert "data-new-divider" not in _html(client.get(f"/channels/{general.id}"))


def test_a_thread_page_shows_the_accepted_answer_and_counts_the_view(client, login, people, general):
    root = f.post(people.member, general, "question?")
    reply = f.post(people.other, general, "the **answer**", parent=root)
    signals.mark_answer(people.member, reply.id)
    login(people.curator)
    page = _html(client.get(f"/posts/{root.id}"))
    assert 'class="accepted-answer"' in page and "<strong>answer</strong>" in page
    assert "Accepted answer" in page and "Unmark answer" in page
    assert f'href="/posts/{root.id}#post-{reply.id}"' in _html(client.get(f"/channels/{general.id}"))  # "Answered"
    db.session.expire_all()
    assert db.session.get(type(root), root.id).view_count == 1


def test_the_asker_marks_an_answer_from_the_thread_page(client, login, people, general):
    root = f.post(people.member, general, "question?")
    reply = f.post(people.other, general, "answer", parent=root)
    login(people.member)
    assert "Mark as answer" in _html(client.get(f"/posts/{root.id}"))
    resp = client.post(f"/posts/{reply.id}/answer", data={"csrf_token": csrf_token(client, f"/posts/{root.id}")})
    assert resp.status_code == 302 and resp.location.endswith(f"/posts/{root.id}#post-{reply.id}")
    assert signals.signals_for(people.member, [root]).answer_of(root) == reply.id


def test_another_member_sees_no_mark_as_answer_button_and_cannot_post_it(client, login, people, general):
    root = f.post(people.member, general, "question?")
    reply = f.post(people.curator, general, "answer", parent=root)
    login(people.other)
    assert "Mark as answer" not in _html(client.get(f"/posts/{root.id}"))
    resp = client.post(f"/posts/{reply.id}/answer", data={"csrf_token": csrf_token(client, f"/posts/{root.id}")})
    assert resp.status_code == 403


def test_saving_a_post_lists_it_on_the_saved_page(client, login, people, general):
    post = f.post(people.member, general, "a useful tip")
    login(people.other)
    token = csrf_token(client, f"/channels/{general.id}")
    assert client.post(f"/posts/{post.id}/save", data={"csrf_token": token}).status_code == 302
    page = _html(client.get("/saved"))
    assert "a useful tip" in page and 'aria-pressed="true"' in page


def test_a_form_without_its_csrf_token_is_refused(client, login, people, general):
    post = f.post(people.member, general, "tip")
    login(people.other)
    assert client.post(f"/posts/{post.id}/save").status_code == 400
    assert client.post(f"/posts/{post.id}/flag", data={"reason": "spam"}).status_code == 400
    assert signals.bookmarks(people.other)[0] == [] and f.count(PostFlag) == 0


def test_an_edited_post_links_to_its_full_history(client, login, people, general):
    post = f.post(people.member, general, "first **draft**")
    actions.edit_post(people.member, post.id, "second draft")
    login(people.other)
    assert f'href="/posts/{post.id}/revisions"' in _html(client.get(f"/channels/{general.id}"))
    page = _html(client.get(f"/posts/{post.id}/revisions"))
    assert "<strong>draft</strong>" in page and "Current version" in page and "second draft" in page


def test_tags_link_to_a_tag_search_and_mentions_stand_out(client, login, people, general):
    f.post(people.member, general, "VPN is down again #vpn cc @other")
    login(people.other)
    page = _html(client.get(f"/channels/{general.id}"))
    assert '<a class="hashtag" href="/search?q=tag%3Avpn">#vpn</a>' in page
    assert '<span class="mention">@other</span>' in page
    results = _html(client.get("/search?q=tag%3Avpn"))
    assert "<strong>1</strong> result" in results


def test_a_notification_leads_to_its_post_and_is_then_read(client, login, people, general):
    root = f.post(people.member, general, "question?")
    reply = f.post(people.other, general, "here you go", parent=root)
    note = db.session.scalar(select(Notification).where(Notification.user_id == people.member.id))
    login(people.member)
    assert f'href="/notifications/{note.id}"' in _html(client.get("/notifications"))
    hop = client.get(f"/notifications/{note.id}")
    assert hop.status_code == 302 and hop.location.endswith(f"/posts/{reply.id}/in-context")
    there = client.get(hop.location)
    assert there.status_code == 302 and there.location.endswith(f"/posts/{root.id}#post-{reply.id}")
    assert actions.unread_count(people.member) == 0
    assert client.get(f"/notifications/{note.id + 1000}").status_code == 404


def test_one_notification_can_be_marked_read_on_its_own(client, login, people, general):
    f.post(people.other, general, "@member one")
    f.post(people.other, general, "@member two")
    first, second = db.session.scalars(select(Notification.id).order_by(Notification.id)).all()
    login(people.member)
    token = csrf_token(client, "/notifications")
    assert client.post("/notifications/read", data={"csrf_token": token, "ids": str(first)}).status_code == 302
    assert [n.id for n in actions.notifications(people.member, unread_only=True)[0]] == [second]


def test_a_member_flags_and_a_moderator_hides_from_the_queue(client, login, people, general):
    post = f.post(people.other, general, "buy cheap watches")
    login(people.member)
    token = csrf_token(client, f"/channels/{general.id}")
    assert client.post(f"/posts/{post.id}/flag", data={"csrf_token": token, "reason": "spam"}).status_code == 302
    assert client.get("/moderation").status_code == 403
    assert client.post(f"/posts/{post.id}/hide", data={"csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(people.curator)
    queue = _html(client.get("/moderation"))
    assert "buy cheap watches" in queue and "spam" in queue
    token = csrf_token(client, "/moderation")
    resp = client.post(f"/posts/{post.id}/hide", data={"csrf_token": token, "reason": "rule 1", "_next": "queue"})
    assert resp.status_code == 302 and resp.location.endswith("/moderation")
    assert "Hidden by a moderator" in _html(client.get(f"/channels/{general.id}"))


def test_the_author_of_a_hidden_post_sees_the_notice_and_other_members_see_nothing(client, login, people, general):
    post = f.post(people.other, general, "borderline joke")
    moderation.hide_post(people.curator, post.id)
    login(people.other)
    assert "Hidden by a moderator" in _html(client.get(f"/channels/{general.id}"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/channels")})
    login(people.member)
    page = _html(client.get(f"/channels/{general.id}"))
    assert "borderline joke" not in page and "Hidden by a moderator" not in page
    assert client.get(f"/posts/{post.id}").status_code == 404


def test_the_creator_adds_a_member_by_handle_and_edits_the_topic(client, login, people):
    leads = f.channel(people.member, "leads", private=True)
    login(people.member)
    token = csrf_token(client, f"/channels/{leads.id}")
    assert client.post(f"/channels/{leads.id}/members", data={"csrf_token": token, "user": "@other"}).status_code == 302
    assert client.post(f"/channels/{leads.id}/topic", data={"csrf_token": token, "topic": "Leads only"}
                       ).status_code == 302
    page = _html(client.get(f"/channels/{leads.id}"))
    assert "Olga Other" in page and "Leads only" in page
    assert client.post(f"/channels/{leads.id}/members", data={"csrf_token": token, "user": "@nobody"}
                       ).status_code == 404


def _submit(client, page: str, action: str, **fields):
    """Send the first form of ``page`` posting to ``action`` with its hidden fields, as a browser
    without JavaScript would, plus ``fields``: where does it land?"""
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.DOTALL)
    assert form, f"no form posts to {action}"
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(1)))
    resp = client.post(action, data={**hidden, **fields})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return resp.headers["Location"]


def test_without_javascript_a_root_posts_forms_return_to_the_page_they_were_sent_from(client, login, people, general):
    root = f.post(people.member, general, "how do we rotate the keys?")
    login(people.other)
    thread = _html(client.get(f"/posts/{root.id}"))
    assert _submit(client, thread, f"/posts/{root.id}/react", emoji="👀").endswith(f"/posts/{root.id}#post-{root.id}")
    thread = _html(client.get(f"/posts/{root.id}"))  # the reaction's own button, then the flag form
    assert _submit(client, thread, f"/posts/{root.id}/react").endswith(f"/posts/{root.id}#post-{root.id}")
    assert _submit(client, thread, f"/posts/{root.id}/flag", reason="spam").endswith(f"/posts/{root.id}#post-{root.id}")
    assert _submit(client, thread, f"/posts/{root.id}/save").endswith(f"/posts/{root.id}#post-{root.id}")
    saved = _html(client.get("/saved"))
    assert _submit(client, saved, f"/posts/{root.id}/react", emoji="🎉").endswith("/saved")
    assert _reactions(root) == {("🎉", people.other.id)}  # 👀 was added, then taken back from its own button
    channel_page = _html(client.get(f"/channels/{general.id}"))  # a root on its channel page stays there
    assert _submit(client, channel_page, f"/posts/{root.id}/react").endswith(f"/channels/{general.id}#post-{root.id}")
    assert _reactions(root) == set()


def _reactions(post) -> set[tuple[str, int]]:
    db.session.expire_all()
    return {(r.emoji, r.user_id) for r in post.reactions}
