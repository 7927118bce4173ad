"""The channel and thread pages and the live fragments keep rendered post cards
(cairn.stream.cards): a card must never be stale, leak from one reader to another, or show a post
the reader may no longer see. Each test renders the page once (filling the cache), changes
something, and reads the page again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from cairn.curation import actions as curation
from cairn.extensions import db
from cairn.kb.models import ArticleSource
from cairn.stream import actions, members, moderation, signals
from cairn.stream.cards import cache
from cairn.ui import CSRF_SLOT
from tests import factories as f


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other, people.curator))


@pytest.fixture
def as_user(app):
    """as_user(user, channel_id) -> the channel page's HTML as that user sees it (a new client each
    time); with ``path``, that page instead (a thread, a live fragment)."""
    from tests.conftest import log_in

    def page(user, channel_id: int | None = None, status: int = 200, path: str | None = None) -> str:
        # a fresh app context, as in production: its own session and its own flask.g (the test's
        # context would keep the first reader's login and CSRF field in g for every request)
        with app.app_context():
            client = app.test_client()
            log_in(client, user)
            resp = client.get(path or f"/channels/{channel_id}")
            assert resp.status_code == status, resp.status_code
            return resp.get_data(as_text=True)

    return page


def _tokens_out(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _card(page: str, post_id: int) -> str | None:
    m = re.search(rf'<article class="post[^"]*"\s+id="post-{post_id}".*?</article>', page, re.DOTALL)
    return m.group(0) if m else None


def test_a_second_view_is_served_from_the_cache_with_the_readers_own_csrf_token(people, general, as_user):
    post = f.post(people.member, general, "hello")
    first = as_user(people.other, general.id)
    hits = cache().hits
    second = as_user(people.curator, general.id)
    assert cache().hits == hits  # another reader's rights (moderate, promote): another card
    again = as_user(people.other, general.id)
    assert cache().hits > hits
    assert _tokens_out(_card(again, post.id)) == _tokens_out(_card(first, post.id))
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', second).group(1)
    card = _card(second, post.id)
    assert f'name="csrf_token" value="{token}"' in card
    assert str(CSRF_SLOT) not in first + second and "card-slot-" not in first + second


def test_an_edited_post_shows_its_new_text_and_history_link(people, general, as_user):
    post = f.post(people.member, general, "first draft")
    assert "first draft" in _card(as_user(people.other, general.id), post.id)
    actions.edit_post(people.member, post.id, "second draft")
    card = _card(as_user(people.other, general.id), post.id)
    assert "second draft" in card and "first draft" not in card
    assert f'href="/posts/{post.id}/revisions"' in card


def test_a_reaction_by_someone_else_shows_with_their_name_and_is_not_mine(people, general, as_user):
    post = f.post(people.member, general, "react here")
    assert 'class="reaction"' not in _card(as_user(people.other, general.id), post.id)
    actions.add_reaction(people.curator, post.id, "tada")
    card = _card(as_user(people.other, general.id), post.id)
    assert "Carla Curator reacted with" in card and 'aria-pressed="false"' in card
    assert 'class="reaction mine"' not in card
    card = _card(as_user(people.curator, general.id), post.id)
    assert 'class="reaction mine"' in card  # the reactor's own view marks it as theirs


def test_a_hidden_post_leaves_members_pages_and_shows_its_notice_to_author_and_moderators(people, general, as_user):
    post = f.post(people.member, general, "questionable")
    for user in (people.other, people.member, people.curator):
        assert "notice-hidden" not in _card(as_user(user, general.id), post.id)
    moderation.hide_post(people.curator, post.id, "off topic")
    assert _card(as_user(people.other, general.id), post.id) is None
    assert "notice-hidden" in _card(as_user(people.member, general.id), post.id)
    card = _card(as_user(people.curator, general.id), post.id)
    assert "notice-hidden" in card and f'action="/posts/{post.id}/restore"' in card
    moderation.restore_post(people.curator, post.id)
    assert "notice-hidden" not in _card(as_user(people.other, general.id), post.id)


def test_a_deleted_post_is_gone_from_the_page(people, general, as_user):
    post = f.post(people.member, general, "oops")
    assert _card(as_user(people.other, general.id), post.id)
    actions.delete_post(people.member, post.id)
    assert _card(as_user(people.other, general.id), post.id) is None


def test_an_accepted_answer_and_a_new_reply_change_the_question_card(people, general, as_user):
    root = f.post(people.member, general, "how?")
    assert "Answered" not in _card(as_user(people.other, general.id), root.id)
    reply = f.post(people.other, general, "like this", parent=root)
    card = _card(as_user(people.other, general.id), root.id)
    assert "1 reply" in card
    signals.mark_answer(people.member, reply.id)
    card = _card(as_user(people.other, general.id), root.id)
    assert f'href="/posts/{root.id}#post-{reply.id}"' in card and "Answered" in card


def test_a_saved_post_is_saved_only_for_the_reader_who_saved_it(people, general, as_user):
    post = f.post(people.member, general, "keep me")
    signals.add_bookmark(people.other, post.id)
    assert "Saved</button>" in _card(as_user(people.other, general.id), post.id)
    assert "Saved</button>" not in _card(as_user(people.curator, general.id), post.id)


def test_buttons_follow_the_reader_not_the_first_reader_of_a_card(people, general, as_user):
    post = f.post(people.member, general, "mine")
    author_view = _card(as_user(people.member, general.id), post.id)
    assert f'href="/posts/{post.id}/edit"' in author_view and 'data-fill="flag-form"' not in author_view
    other_view = _card(as_user(people.other, general.id), post.id)
    assert f'href="/posts/{post.id}/edit"' not in other_view and f'/posts/{post.id}/delete' not in other_view
    assert 'data-fill="flag-form"' in other_view and "hide-reason" not in other_view
    assert "hide-reason" in _card(as_user(people.curator, general.id), post.id)


def test_a_promotion_link_appears_once_the_article_exists_and_only_for_readers_of_it(people, general, as_user):
    post = f.post(people.member, general, "worth keeping")
    space = f.space(people.admin, "Handbook")
    assert "promoted-link" not in _card(as_user(people.curator, general.id), post.id)
    curation.request_promotion(people.curator, [post.id], space_id=space.id)  # eager: the draft exists now
    article_id = db.session.scalar(select(ArticleSource.article_id).where(ArticleSource.post_id == post.id))
    assert article_id
    assert f'href="/articles/{article_id}"' in _card(as_user(people.curator, general.id), post.id)
    assert "promoted-link" not in _card(as_user(people.other, general.id), post.id)  # a draft: not theirs to read


def test_a_renamed_author_shows_under_the_new_name(people, general, as_user):
    post = f.post(people.member, general, "signed")
    assert "Milo Member" in _card(as_user(people.other, general.id), post.id)
    people.member.display_name = "Milo Renamed"
    db.session.commit()
    card = _card(as_user(people.other, general.id), post.id)
    assert "Milo Renamed" in card and "Milo Member" not in card


def test_a_member_removed_from_a_private_channel_gets_no_cards(people, as_user):
    secret = f.channel(people.member, "secret", private=True, members=(people.other,))
    post = f.post(people.member, secret, "inner circle")
    assert _card(as_user(people.other, secret.id), post.id)
    members.remove_member(people.member, secret.id, people.other.id)
    assert "inner circle" not in as_user(people.other, secret.id, status=404)  # not the cached cards


def test_the_page_asks_the_database_the_same_number_of_questions_for_2_or_12_posts(people, general, as_user):
    def statements() -> int:
        seen: list[str] = []

        def spy(conn, cursor, statement, params, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", spy)
        try:
            as_user(people.other, general.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", spy)
        return len(seen)

    for i in range(2):
        actions.add_reaction(people.curator, f.post(people.member, general, f"post {i}").id, "tada")
    few = statements()
    for i in range(10):
        post = f.post(people.curator if i % 2 else people.member, general, f"more {i}")
        actions.add_reaction(people.other, post.id, "eyes")
        actions.add_reaction(people.admin, post.id, "tada")
    assert statements() == few  # no query per post, author or reactor


# --- the thread page and the live fragments share the cache -----------------------------------

def test_a_thread_page_is_served_from_the_cache_and_shows_an_edit_a_reaction_and_a_hide_at_once(people, general,
                                                                                                 as_user):
    root = f.post(people.member, general, "how do I?")
    reply = f.post(people.other, general, "first answer", parent=root)
    thread = f"/posts/{root.id}"
    first = as_user(people.curator, path=thread)
    hits = cache().hits
    assert _tokens_out(_card(as_user(people.curator, path=thread), reply.id)) == _tokens_out(_card(first, reply.id))
    assert cache().hits == hits + 1  # the reply's card (the root's shows its view count, which this view moved)
    actions.edit_post(people.other, reply.id, "better answer")
    card = _card(as_user(people.curator, path=thread), reply.id)
    assert "better answer" in card and "first answer" not in card
    actions.add_reaction(people.member, reply.id, "tada")
    card = _card(as_user(people.curator, path=thread), reply.id)
    assert "Milo Member reacted with" in card and 'class="reaction mine"' not in card
    assert 'class="reaction mine"' in _card(as_user(people.member, path=thread), reply.id)
    moderation.hide_post(people.curator, reply.id, "off topic")
    assert _card(as_user(people.member, path=thread), reply.id) is None  # not the author, not a moderator
    assert "notice-hidden" in _card(as_user(people.other, path=thread), reply.id)
    assert "notice-hidden" in _card(as_user(people.curator, path=thread), reply.id)


def test_a_thread_card_differs_from_the_timeline_card_of_the_same_post(people, general, as_user):
    root = f.post(people.member, general, "question")
    in_timeline = _card(as_user(people.member, general.id), root.id)
    in_thread = _card(as_user(people.member, path=f"/posts/{root.id}"), root.id)
    assert 'class="post post-root' in in_thread and "post-root" not in in_timeline
    assert f'class="reply-count" href="/posts/{root.id}"' in in_timeline and "reply-count" not in in_thread


def test_a_live_fragment_is_served_from_the_cache_and_shows_an_edit_at_once(people, general, as_user):
    root = f.post(people.member, general, "question")
    reply = f.post(people.other, general, "draft reply", parent=root)
    fragment = f"/posts/{reply.id}/fragment?in_thread=1"
    as_user(people.member, path=fragment)
    hits = cache().hits
    card = _card(as_user(people.member, path=fragment), reply.id)
    assert cache().hits == hits + 1 and "draft reply" in card
    assert "Mark as answer" in card  # the asker's view of a reply, in its thread
    actions.edit_post(people.other, reply.id, "final reply")
    card = _card(as_user(people.member, path=fragment), reply.id)
    assert "final reply" in card and "draft reply" not in card
    moderation.hide_post(people.curator, reply.id)
    as_user(people.member, path=fragment, status=404)


def test_the_saved_page_is_served_from_the_cache_and_shows_an_edit_at_once(people, general, as_user):
    post = f.post(people.member, general, "the runbook is in the wiki")
    signals.add_bookmark(people.other, post.id)
    first = as_user(people.other, path="/saved")
    hits = cache().hits
    assert _tokens_out(_card(as_user(people.other, path="/saved"), post.id)) == _tokens_out(_card(first, post.id))
    assert cache().hits == hits + 1
    assert _card(first, post.id) != _card(as_user(people.other, general.id), post.id)  # back="saved" differs
    actions.edit_post(people.member, post.id, "the runbook moved to the vault")
    card = _card(as_user(people.other, path="/saved"), post.id)
    assert "moved to the vault" in card and "is in the wiki" not in card
