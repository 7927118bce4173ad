"""The stream's composer and signals in a real browser: @mention autocomplete, the live Markdown
preview, accepting an answer, and the unread counter.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cairn.auth.models import User
from cairn.extensions import db
from cairn.stream import actions as stream

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)


def _as(world, who: str, do):
    """Run ``do(user)`` as a seeded user, inside the server's app (as another client would)."""
    with world.app.app_context():
        result = do(db.session.scalar(select(User).where(User.email == world.emails[who])))
        db.session.remove()
        return result


def test_mention_autocomplete_picks_a_person_and_the_live_preview_shows_the_markdown(open_session, world):
    milo = open_session("member")
    milo.goto(f"/channels/{world.ids['engineering']}")
    composer = milo.page.get_by_label("Message", exact=True)
    composer.click()
    composer.press_sequentially("Thanks @ol")
    menu = milo.page.get_by_role("listbox", name="People to mention")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option").first).to_contain_text("Olga Other")
    milo.shot("mention-menu")
    composer.press("Enter")
    expect(menu).to_be_hidden()
    expect(composer).to_have_value("Thanks @olga ")

    # The preview is the server's rendering: bold, code, a linked #tag and the mention.
    milo.page.get_by_role("button", name="Preview").click()
    composer.press_sequentially("for **the fix**: `make deploy` #ci")
    preview = milo.page.locator("[data-preview]")
    expect(preview.locator("strong")).to_have_text("the fix")
    expect(preview.locator("code")).to_have_text("make deploy")
    expect(preview.locator("a.hashtag")).to_have_attribute("href", "/search?q=tag%3Aci")
    expect(preview.locator(".mention")).to_have_text("@olga")
    milo.shot("live-preview")

    composer.press("Control+Enter")
    post = milo.page.locator("article.post", has_text="the fix")
    expect(post.locator(".post-body .mention")).to_have_text("@olga")
    expect(post.locator(".post-body strong")).to_have_text("the fix")  # the preview equals the result

    olga = open_session("other")
    olga.goto("/notifications")
    expect(olga.page.locator(".notification").first).to_contain_text("Milo Member mentioned you")


def test_the_asker_marks_an_answer_and_the_thread_shows_it_first(open_session, world):
    question = _as(world, "member", lambda me: stream.create_post(
        me, world.ids["engineering"], "How do I restart the deploy bot?").id)
    _as(world, "other", lambda me: stream.create_post(
        me, world.ids["engineering"], "Maybe ask in #ops?", question))
    _as(world, "curator", lambda me: stream.create_post(
        me, world.ids["engineering"], "Run `bot restart --graceful` from the release channel.", question))

    milo = open_session("member")
    milo.goto(f"/posts/{question}")
    expect(milo.page.locator(".accepted-answer")).to_have_count(0)
    reply = milo.page.locator("article.post", has_text="bot restart --graceful")
    reply.get_by_role("button", name="Mark as answer").click()

    answer = milo.page.locator(".accepted-answer")
    expect(answer).to_be_visible()
    expect(answer.get_by_role("heading")).to_contain_text("Accepted answer")
    expect(answer).to_contain_text("bot restart --graceful")
    expect(reply.locator(".badge.answer")).to_have_text(re.compile("Accepted answer"))
    expect(milo.page.locator("article.post", has_text="Maybe ask").locator(".badge.answer")).to_have_count(0)
    milo.shot("accepted-answer")

    # Another member sees it too, but may not change it; the timeline says the question is answered.
    olga = open_session("other")
    olga.goto(f"/posts/{question}")
    expect(olga.page.locator(".accepted-answer")).to_contain_text("bot restart --graceful")
    expect(olga.page.get_by_role("button", name=re.compile("Mark as answer|Unmark answer"))).to_have_count(0)
    olga.goto(f"/channels/{world.ids['engineering']}")
    expect(olga.page.locator("article.post", has_text="restart the deploy bot").locator(".badge.answer")
           ).to_have_text(re.compile("Answered"))


def test_an_unread_counter_appears_for_another_users_new_post_after_reload(open_session, world):
    olga = open_session("other")
    olga.goto(f"/channels/{world.ids['engineering']}")  # read: nothing new
    link = olga.page.locator("#sidebar").get_by_role("link", name=re.compile("engineering"))
    expect(link.locator(".count-pill")).to_have_count(0)
    olga.goto("/saved")

    milo = open_session("member")
    milo.goto(f"/channels/{world.ids['engineering']}")
    milo.send("Message", "Heads-up: staging is down for maintenance until 14:00.")
    expect(milo.page.locator("article.post", has_text="staging is down")).to_be_visible()
    expect(milo.page.locator("#sidebar .count-pill[data-unread-count]")).to_have_count(0)  # one's own post

    olga.page.reload()
    expect(link.locator(".count-pill")).to_have_text("1")
    olga.shot("unread-counter")
    link.click()
    divider = olga.page.locator("[data-new-divider]")
    expect(divider).to_be_visible()
    expect(olga.page.locator("[data-new-divider] + article.post")).to_contain_text("staging is down")
    expect(link.locator(".count-pill")).to_have_count(0)  # reading the channel marked it read
    olga.page.reload()
    expect(olga.page.locator("[data-new-divider]")).to_have_count(0)
