"""Knowledge-base governance in a real browser: a member flags an article, a curator resolves the
flag from the queue; an owner verifies an overdue article with one click.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.verification import mark_overdue_articles
from cairn.models_base import utcnow

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)


def _published(world, title: str, body: str) -> int:
    """An article written (so owned) by the member Milo, published by the curator."""
    with world.app.app_context():
        member = db.session.get(User, world.ids["member"])
        curator = db.session.get(User, world.ids["curator"])
        art = kb.create_article(member, world.ids["handbook"], title, body)
        kb.transition_article(member, art.id, "in_review")
        kb.transition_article(curator, art.id, "published")
        db.session.remove()
        return art.id


def test_a_member_flags_an_article_and_a_curator_resolves_it_from_the_queue(open_session, world):
    article_id = _published(world, "Expense reports", "Submit them by the 5th via the old portal.")

    olga = open_session("other")
    olga.goto(f"/articles/{article_id}")
    expect(olga.page).to_have_title(re.compile("Expense reports"))
    expect(olga.page.get_by_role("button", name=re.compile("Verify"))).to_have_count(0)  # not hers to verify
    olga.page.get_by_text("Flag this article").click()
    olga.page.get_by_label("What is wrong?").select_option("outdated")
    olga.page.get_by_label("Comment").fill("The old portal was retired in March.")
    olga.page.get_by_role("button", name="Send flag").click()
    expect(olga.page.locator(".flash")).to_contain_text("will look at your flag")
    expect(olga.page.get_by_role("button", name="Resolve")).to_have_count(0)  # not hers to resolve
    olga.shot("flagged")

    carla = open_session("curator")
    carla.goto("/")
    expect(carla.page.get_by_role("link", name=re.compile("Flags"))).to_contain_text("1")
    carla.page.get_by_role("link", name=re.compile("Flags")).click()
    expect(carla.page).to_have_title(re.compile("Flags"))
    card = carla.page.locator(".kb-flag-card", has_text="Expense reports")
    expect(card).to_contain_text("outdated")
    expect(card).to_contain_text("The old portal was retired in March.")
    carla.shot("queue")
    card.get_by_label("Resolution note").fill("Pointed it at the new portal.")
    card.get_by_role("button", name="Resolve").click()
    expect(carla.page.locator(".flash")).to_contain_text("resolved")
    expect(carla.page.locator(".empty")).to_contain_text("No open flags")
    carla.page.get_by_role("link", name="Resolved").click()
    expect(carla.page.locator(".kb-flag-card", has_text="Expense reports")).to_contain_text("Pointed it at the new portal.")
    carla.shot("resolved")

    olga.goto("/notifications")
    expect(olga.page.locator(".notification", has_text="was resolved")).to_be_visible()
    milo = open_session("member")  # the owner was told about the flag
    milo.goto("/notifications")
    expect(milo.page.locator(".notification", has_text="flagged “Expense reports” as outdated")).to_be_visible()


def test_the_owner_verifies_an_overdue_article_with_one_click_and_the_badge_changes(open_session, world):
    article_id = _published(world, "VPN setup", "Install the client, then run `vpn up`.")
    with world.app.app_context():
        mark_overdue_articles(now=utcnow() + timedelta(days=365))
        db.session.remove()

    milo = open_session("member")
    milo.goto(f"/articles/{article_id}")
    badge = milo.page.locator(".article-head .badges")
    expect(badge.locator(".needs-verification")).to_be_visible()
    expect(milo.page.locator("[data-verification-notice]")).to_contain_text("verify it")
    milo.shot("needs-verification")
    milo.page.get_by_role("button", name=re.compile("Verify: still accurate")).click()
    expect(badge.locator(".verified")).to_be_visible()
    expect(badge.locator(".needs-verification")).to_have_count(0)
    milo.shot("verified")

    milo.goto(f"/spaces/{world.ids['handbook']}")
    row = milo.page.locator(".article-row", has_text="VPN setup")
    expect(row.locator(".verified")).to_be_visible()
