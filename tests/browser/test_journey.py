"""The product in a real browser: ask in chat, answer, promote, review, publish, find.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py).
"""

from __future__ import annotations

import re

import pytest

from cairn.auth.models import User
from cairn.curation.actions import run_promotion
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.stream import actions as stream

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)

QUESTION = "How do I rotate the staging signing key? Mail me at milo.member@example.com if it breaks."
ANSWER = "Run `vault rotate staging-signing` and then restart the deploy bot."


def test_question_answered_in_chat_is_promoted_published_and_found_first(open_session, world):
    # A member asks in #engineering, sending with Ctrl+Enter.
    milo = open_session("member")
    milo.goto(f"/channels/{world.ids['engineering']}")
    expect(milo.page).to_have_title(re.compile("#engineering"))
    milo.send("Message", QUESTION)
    question = milo.page.locator("article.post", has_text="rotate the staging signing key")
    expect(question).to_be_visible()
    expect(question.locator(".post-author")).to_have_text("Milo Member")
    milo.shot("asked")

    # Another member answers in the thread and reacts to the question.
    olga = open_session("other")
    olga.goto(f"/channels/{world.ids['engineering']}")
    olga.page.locator("article.post", has_text="rotate the staging signing key").get_by_role("link", name="Reply").click()
    expect(olga.page).to_have_title(re.compile("Thread"))
    olga.page.get_by_label("Reply", exact=True).fill(ANSWER)
    olga.page.get_by_role("button", name="Reply", exact=True).click()
    reply = olga.page.locator("article.post", has_text="vault rotate staging-signing")
    expect(reply).to_be_visible()
    expect(reply.locator("code")).to_have_text("vault rotate staging-signing")
    root = olga.page.locator("article.post-root")
    root.locator("details.react-picker summary").click()
    root.get_by_role("button", name="React with 👍").click()
    reaction = olga.page.locator("article.post-root .reaction", has_text="👍")
    expect(reaction).to_have_attribute("aria-pressed", "true")
    expect(reaction.locator(".count")).to_have_text("1")
    olga.shot("answered-and-reacted")

    # The asker sees the reply count and the reaction in the timeline.
    milo.page.reload()
    expect(question.get_by_role("link", name=re.compile("1 reply"))).to_be_visible()
    expect(question.locator(".reaction", has_text="👍")).to_be_visible()

    # A curator promotes the question (its thread comes along) into the Handbook.
    carla = open_session("curator")
    carla.goto(f"/channels/{world.ids['engineering']}")
    post = carla.page.locator("article.post", has_text="rotate the staging signing key")
    post.locator("details.promote summary").click()
    post.get_by_label("Promote to knowledge base, in space").select_option(label="Handbook")
    carla.shot("promote-form")
    post.get_by_role("button", name="Promote to knowledge base").click()
    expect(carla.page).to_have_url(re.compile(r"/promotions/\d+$"))

    # The pipeline has run (eager Celery): the draft waits for review, the e-mail is redacted.
    expect(carla.page.locator(".promotion-status .status")).to_have_text("needs review")
    expect(carla.page.locator(".findings")).to_contain_text("email")
    redaction = carla.page.locator(".draft-preview mark.redaction")
    expect(redaction).to_have_text("[redacted email]")
    expect(carla.page.locator(".draft-preview")).not_to_contain_text("milo.member@example.com")
    expect(carla.page.locator(".draft-preview")).to_contain_text("vault rotate staging-signing")
    carla.shot("promotion-needs-review")

    # The curator opens the draft and publishes it.
    carla.page.get_by_role("link", name="Open the draft to review and publish").click()
    expect(carla.page.locator(".article-head .status")).to_have_text("in review")
    expect(carla.page.locator(".article-body mark.redaction")).to_be_visible()
    carla.page.get_by_role("button", name="Publish").click()
    expect(carla.page.locator(".article-head .status")).to_have_text("published")
    expect(carla.page.locator(".article-head .verified")).to_be_visible()
    title = carla.page.locator("#article-title").inner_text()
    carla.shot("published")

    # The member searches from the header and finds the article first, highlighted.
    milo.goto(f"/channels/{world.ids['engineering']}")
    search = milo.page.get_by_role("combobox", name="Search Cairn")
    search.fill("rotate staging signing")
    search.press("Enter")
    expect(milo.page).to_have_title(re.compile("Search"))
    first = milo.page.locator("ol.results > li").first
    expect(first.locator(".result-label")).to_contain_text("Article")
    expect(first.locator(".result-label")).to_contain_text("verified")
    expect(first.locator(".result-title a")).to_have_text(title)
    expect(first.locator(".snippet mark").first).to_be_visible()
    expect(milo.page.locator("ol.results .result-label", has_text="Post in #engineering").first).to_be_visible()
    milo.shot("search")

    # The question now links to the article it became.
    milo.goto(f"/channels/{world.ids['engineering']}")
    expect(question.locator(".promoted-link a")).to_have_text(title)

    for session in (milo, olga, carla):
        assert not session.problems, session.problems


def test_member_never_sees_a_private_channel_they_are_not_in(open_session, world):
    milo = open_session("member")
    milo.goto("/channels")
    sidebar = milo.page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name=re.compile("engineering"))).to_be_visible()
    expect(sidebar).not_to_contain_text("leads-only")
    expect(milo.page.locator("main")).not_to_contain_text("leads-only")
    milo.goto(f"/channels/{world.ids['leads']}")
    expect(milo.page.locator(".error-code")).to_have_text("404")
    expect(milo.page.locator("main")).not_to_contain_text("reorganisation")
    milo.shot("private-channel-404")

    # Its curator member sees it, with a lock.
    carla = open_session("curator")
    carla.goto("/channels")
    expect(carla.page.locator("#sidebar").get_by_role("link", name=re.compile("leads-only"))
           .get_by_role("img", name="private channel")).to_be_attached()


def test_script_and_javascript_links_in_posts_never_run(open_session, world):
    milo = open_session("member")
    milo.goto(f"/channels/{world.ids['engineering']}")
    composer = milo.page.get_by_label("Message", exact=True)
    composer.fill("<script>alert(1)</script> and <img src=x onerror=alert(2)>")
    milo.page.get_by_role("button", name="Send").click()
    milo.page.wait_for_url(re.compile(r"#post-\d+$"))  # back on the channel, at the new post
    milo.send("Message", "click [x](javascript:alert(3)) or [y](JaVaScRiPt:alert(4))")
    posts = milo.page.locator("article.post .post-body")
    expect(posts.filter(has_text="<script>alert(1)</script>")).to_be_visible()  # shown as text
    assert milo.page.locator(".post-body script, .post-body img[onerror]").count() == 0
    links = milo.page.locator(".post-body a", has_text=re.compile("^[xy]$"))
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        assert not href.lower().startswith("javascript"), href
        links.nth(i).click()
    milo.page.wait_for_timeout(300)

    # The preview in the composer builds text, not HTML.
    composer.fill("<img src=x onerror=alert(5)> **bold**")
    milo.page.get_by_role("button", name="Preview").click()
    expect(milo.page.locator("[data-preview] strong")).to_have_text("bold")
    assert milo.page.locator("[data-preview] img").count() == 0

    # Search snippets and the thread page render the same posts safely too.
    milo.goto("/search?q=alert")
    expect(milo.page.locator("ol.results")).to_contain_text("<script>alert(1)</script>")
    milo.shot("search-escaped")
    assert milo.page.locator("ol.results script").count() == 0
    assert not milo.problems, milo.problems


def test_promotion_page_follows_progress_until_the_draft_is_ready(open_session, world):
    with world.app.app_context():
        member = db.session.get(User, world.ids["member"])
        post = stream.create_post(member, world.ids["engineering"], "Where is the VPN config? #vpn")
        # A queued promotion whose worker has not started yet (as with a busy queue).
        promotion = Promotion(requester_id=world.ids["curator"], post_ids=[post.id], active_key=str(post.id),
                              space_id=world.ids["handbook"])
        db.session.add(promotion)
        db.session.commit()
        promotion_id = promotion.id
        db.session.remove()

    carla = open_session("curator")
    carla.goto(f"/promotions/{promotion_id}")
    expect(carla.page.locator(".promotion-status .status")).to_have_text("queued")
    expect(carla.page.locator("[data-poll-status]")).to_be_visible()
    carla.shot("queued")

    with world.app.app_context():
        assert run_promotion(promotion_id) == "needs_review"
        db.session.remove()

    # promotion.js polls the API and reloads the page when the status changes.
    expect(carla.page.locator(".promotion-status .status")).to_have_text("needs review", timeout=15_000)
    expect(carla.page.locator(".draft-preview")).to_contain_text("Where is the VPN config?")
    expect(carla.page.locator("[data-poll-status]")).to_have_count(0)
    carla.shot("ready")
    assert not carla.problems, carla.problems


def test_phone_width_shows_the_sidebar_behind_a_menu_button(open_session, world):
    milo = open_session("member", viewport={"width": 390, "height": 844}, color_scheme="dark",
                        reduced_motion="reduce")
    milo.goto(f"/channels/{world.ids['engineering']}")
    sidebar = milo.page.locator("#sidebar")
    expect(sidebar).not_to_be_visible()
    menu = milo.page.get_by_role("button", name="Menu")
    menu.click()
    expect(sidebar).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    milo.shot("menu-open")
    milo.page.keyboard.press("Escape")
    expect(sidebar).not_to_be_visible()
    assert not milo.problems, milo.problems
