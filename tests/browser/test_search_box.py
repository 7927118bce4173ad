"""The search box in a real browser: suggestions as you type (keyboard and CSP-safe script),
a misspelt query answered for its correction, and facets as clickable refinements; a word from a
private channel is never suggested to someone outside it.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import select

from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.models import Space
from cairn.stream import actions as stream

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)


@pytest.fixture
def corpus(world):
    with world.app.app_context():
        def user(who: str) -> User:
            return db.session.scalar(select(User).where(User.email == world.emails[who]))

        stream.create_post(user("admin"), world.ids["engineering"], "Kubernetes upgrade checklist for Friday #k8s")
        stream.create_post(user("admin"), world.ids["leads"], "The reorganisation memo stays in this channel")
        with db.transaction() as s:
            kb.draft_article(s, s.get(User, user("curator").id), s.get(Space, world.ids["handbook"]),
                             "Kubernetes runbook", "Drain the nodes, then upgrade.", status="published")
        db.session.remove()


def test_the_search_box_suggests_completes_corrects_and_refines(open_session, world, corpus):
    milo = open_session("member")
    milo.goto("/")
    box = milo.page.get_by_role("combobox", name="Search Cairn")
    box.click()
    box.press_sequentially("kube")
    suggestions = milo.page.get_by_role("listbox", name="Search suggestions")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option", name=re.compile(r"^kubernetes"))).to_have_count(1)
    expect(suggestions.get_by_role("option", name=re.compile("Kubernetes runbook"))).to_have_count(1)
    milo.shot("suggestions")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-0$"))
    box.press("Enter")  # the first suggestion is the completed query: it is searched
    milo.page.wait_for_url(re.compile(r"/search\?q=kubernetes"))
    expect(milo.page.locator("ol.results li")).to_have_count(2)

    search = milo.page.get_by_role("combobox", name="Search query")
    search.fill("kuberntes")
    search.press("Enter")
    expect(milo.page.locator("[data-spelling=corrected]")).to_contain_text("Showing results for kubernetes")
    expect(milo.page.locator("ol.results li").first).to_be_visible()
    milo.shot("corrected")
    milo.page.get_by_role("navigation", name="Refine by channel").get_by_role("link", name=re.compile("#engineering")).click()
    milo.page.wait_for_url(lambda url: "q=kubernetes in:#engineering" in unquote_plus(url))
    expect(milo.page.locator("ol.results li")).to_have_count(1)
    expect(milo.page.locator("ol.results li")).to_contain_text("Kubernetes upgrade checklist")

    # a word only a private channel holds is never offered to someone outside it
    milo.goto("/")
    box = milo.page.get_by_role("combobox", name="Search Cairn")
    box.click()
    box.press_sequentially("reorg")
    milo.page.wait_for_timeout(600)  # the debounce and the request have run
    expect(milo.page.get_by_text("reorganisation")).to_have_count(0)

    ada = open_session("admin")  # a member of the private channel gets it
    ada.goto("/")
    box = ada.page.get_by_role("combobox", name="Search Cairn")
    box.click()
    box.press_sequentially("reorg")
    expect(ada.page.get_by_role("listbox", name="Search suggestions").get_by_role(
        "option", name=re.compile("^reorganisation"))).to_have_count(1)
