"""The whole journey of issue 7 in Chromium, with a real Celery worker on a real (private) Redis:

member A asks in #engineering, member B answers (leaving an e-mail address in the answer), A marks
the answer, a curator promotes the thread, the worker runs the pipeline while the promotion page
follows it, the curator reviews the draft with the redaction highlighted, the four-eyes policy
refuses to let the curator publish her own draft and an admin publishes it, and member C finds the
article by searching with a typo. Every page is saved as a screenshot under
artifacts/screenshots/<test>/ (CAIRN_ARTIFACTS names another folder).

test_journey.py walks a shorter journey with an eager Celery; this one uses the real-worker
fixtures of test_promotion_live.py.
"""

from __future__ import annotations

import re

import pytest

from cairn.auth import actions as auth
from cairn.extensions import db
from tests.browser.conftest import PASSWORD
from tests.browser.test_promotion_live import (  # noqa: F401  (the real-worker fixtures)
    redis_url,
    settings,
    start_worker,
    world,
)

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect

QUESTION = "How do I roll back a kubernetes deployment on staging after a bad release?"
ANSWER = ("Run `kubectl rollout undo deployment/web -n staging`, then watch `kubectl rollout status`. "
          "If it sticks, mail olga.other@example.com.")


@pytest.fixture
def four_eyes(world):  # noqa: F811  (the real-worker world imported above)
    """The publication policy of config/policy.toml with require_second_approver on, and a third member."""
    world.app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    with world.app.app_context():
        cleo = auth.create_user("cleo@example.com", PASSWORD, "Cleo Colleague", "member")
        world.emails["third"] = cleo.email
        db.session.remove()
    return world


def test_question_to_answer_to_reviewed_article_found_by_a_colleague_who_misspells_it(
        open_session, four_eyes, start_worker):  # noqa: F811
    start_worker()
    channel = f"/channels/{four_eyes.ids['engineering']}"

    # Member A asks in #engineering.
    milo = open_session("member")
    milo.goto(channel)
    expect(milo.page).to_have_title(re.compile("#engineering"))
    milo.shot("channel")
    milo.send("Message", QUESTION)
    question = milo.page.locator("article.post", has_text="roll back a kubernetes deployment")
    expect(question).to_be_visible()
    milo.shot("asked")

    # Member B answers in the thread.
    olga = open_session("other")
    olga.goto(channel)
    olga.page.locator("article.post", has_text="roll back a kubernetes deployment").get_by_role(
        "link", name="Reply").click()
    expect(olga.page).to_have_title(re.compile("Thread"))
    olga.shot("thread")
    olga.page.get_by_label("Reply", exact=True).fill(ANSWER)
    olga.page.get_by_role("button", name="Reply", exact=True).click()
    reply = olga.page.locator("article.post", has_text="kubectl rollout undo")
    expect(reply).to_be_visible()
    expect(reply.get_by_role("button", name="Mark as answer")).to_have_count(0)  # only the asker or a curator
    olga.shot("answered")
    thread_url = olga.page.url

    # Member A accepts the answer.
    milo.page.goto(thread_url)
    milo.page.locator("article.post", has_text="kubectl rollout undo").get_by_role(
        "button", name="Mark as answer").click()
    expect(milo.page.locator("aside.accepted-answer")).to_contain_text("kubectl rollout undo")
    expect(milo.page.locator("article.post-answer .badge.answer")).to_contain_text("Accepted answer")
    milo.shot("marked-answer")

    # The curator promotes the thread from its page; the real worker runs the pipeline.
    carla = open_session("curator")
    carla.page.goto(thread_url)
    carla.shot("thread")
    root = carla.page.locator("article.post-root")
    root.locator("details.promote summary").click()
    root.get_by_label("Promote to knowledge base, in space").select_option(label="Handbook")
    carla.shot("promote-form")
    root.get_by_role("button", name="Promote to knowledge base").click()
    expect(carla.page).to_have_url(re.compile(r"/promotions/\d+$"))
    carla.shot("promotion-progress")
    expect(carla.page.locator(".promotion-status .status")).to_have_text("needs review", timeout=30_000)

    # She reviews the draft: the e-mail address is redacted and highlighted, the answer is there.
    preview = carla.page.locator(".draft-preview")
    expect(preview.locator("mark.redaction")).to_have_text("[redacted email]")
    expect(preview).not_to_contain_text("olga.other@example.com")
    expect(preview).to_contain_text("kubectl rollout undo")
    carla.shot("promotion-needs-review")
    carla.page.get_by_role("link", name="Open the draft to review and publish").click()
    expect(carla.page.locator(".article-head .status")).to_have_text("in review")
    expect(carla.page.locator(".article-body mark.redaction")).to_be_visible()
    # Four eyes: she wrote the draft, so her Publish button is disabled with the reason.
    publish = carla.page.get_by_role("button", name="Publish")
    expect(publish).to_be_disabled()
    expect(carla.page.locator("#refusal-published")).to_contain_text("second curator")
    carla.shot("draft-four-eyes")
    article_url = carla.page.url
    title = carla.page.locator("#article-title").inner_text()

    # A second approver (the admin) publishes it.
    ada = open_session("admin")
    ada.page.goto(article_url)
    expect(ada.page.locator(".article-body mark.redaction")).to_be_visible()
    ada.shot("draft")
    ada.page.get_by_role("button", name="Publish").click()
    expect(ada.page.locator(".article-head .status")).to_have_text("published")
    expect(ada.page.locator(".article-head .verified")).to_be_visible()
    ada.shot("published")

    # Member C, who was in none of it, searches with a typo and finds the article first.
    cleo = open_session("third")
    cleo.goto("/channels")
    cleo.shot("home")
    search = cleo.page.get_by_role("combobox", name="Search Cairn")
    search.fill("kuberntes")  # a typo no stemmer undoes: only the correction finds it
    search.press("Enter")
    expect(cleo.page).to_have_title(re.compile("Search"))
    expect(cleo.page.locator("[data-spelling=corrected]")).to_contain_text("kubernetes")
    first = cleo.page.locator("ol.results > li").first
    expect(first.locator(".result-label")).to_contain_text("Article")
    expect(first.locator(".result-title a")).to_have_text(title)
    cleo.shot("search-with-typo")
    first.locator(".result-title a").click()
    expect(cleo.page.locator("#article-title")).to_have_text(title)
    expect(cleo.page.locator(".article-body")).to_contain_text("kubectl rollout undo")
    expect(cleo.page.locator(".article-body")).not_to_contain_text("olga.other@example.com")
    cleo.shot("article")
