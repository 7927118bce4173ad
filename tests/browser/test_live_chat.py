"""Two people chat in two browsers: posts, replies, reactions and deletions appear without reloading.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py). The server is the
embedded default: live updates go through the in-process broker.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)


def open_live(session, path: str, container: str) -> None:
    """Open a page, wait until its event stream is connected, and mark the page: a reload would
    lose the mark, so the mark still being there proves that nothing reloaded."""
    session.goto(path)
    expect(session.page.locator(container)).to_have_attribute("data-live-state", "open")
    session.page.evaluate("window.__notReloaded = true")


def not_reloaded(session) -> bool:
    return session.page.evaluate("window.__notReloaded === true")


def test_two_people_chat_and_see_each_other_live(open_session, world):
    channel = f"/channels/{world.ids['engineering']}"
    milo = open_session("member")
    olga = open_session("other")
    open_live(milo, channel, "section.timeline")
    open_live(olga, channel, "section.timeline")

    # Olga writes; Milo's timeline shows it, rendered like every other post.
    olga.send("Message", "Is the **staging** deploy green?")
    on_milo = milo.page.locator("article.post", has_text="Is the staging deploy green?")
    expect(on_milo).to_be_visible()
    expect(on_milo.locator(".post-author")).to_have_text("Olga Other")
    expect(on_milo.locator(".post-body strong")).to_have_text("staging")
    milo.shot("sees-olga-live")

    # Milo reacts (no reload on his side either); Olga sees the reaction arrive.
    open_live(olga, channel, "section.timeline")  # her own post reloaded her page: mark it again
    on_milo.locator("details.react-picker summary").click()
    on_milo.get_by_role("button", name="React with 🎉").click()
    on_olga = olga.page.locator("article.post", has_text="Is the staging deploy green?")
    expect(on_olga.locator(".reaction", has_text="🎉").locator(".count")).to_have_text("1")
    expect(on_olga.locator(".reaction", has_text="🎉")).to_have_attribute("aria-pressed", "false")

    # Milo answers; Olga's timeline counts the reply, and a post from Milo arrives too.
    milo.send("Message", "Green since 10:02, ship it")
    expect(olga.page.locator("article.post", has_text="Green since 10:02")).to_be_visible()
    olga.shot("sees-milo-live")

    # The inserted post works like the others: Olga reacts to Milo's message from her page.
    open_live(milo, channel, "section.timeline")
    fresh = olga.page.locator("article.post", has_text="Green since 10:02")
    fresh.locator("details.react-picker summary").click()
    fresh.get_by_role("button", name="React with 👍").click()
    expect(fresh.locator(".reaction", has_text="👍")).to_have_attribute("aria-pressed", "true")
    on_milo_own = milo.page.locator("article.post", has_text="Green since 10:02")
    expect(on_milo_own.locator(".reaction", has_text="👍").locator(".count")).to_have_text("1")

    # Olga deletes her question: it leaves Milo's timeline.
    on_olga.locator("details.confirm summary", has_text="Delete").click()
    on_olga.get_by_role("button", name="Delete", exact=True).click()
    expect(milo.page.locator("article.post", has_text="Is the staging deploy green?")).to_have_count(0)
    assert not_reloaded(milo)
    milo.shot("after-delete")


def test_a_reply_appears_in_an_open_thread_and_its_count_in_the_channel(open_session, world):
    channel = f"/channels/{world.ids['engineering']}"
    milo = open_session("member")
    olga = open_session("other")
    open_live(milo, channel, "section.timeline")
    milo.send("Message", "Who owns the VPN certificates?")
    root = milo.page.locator("article.post", has_text="Who owns the VPN certificates?")
    root.get_by_role("link", name="Reply").click()
    expect(milo.page).to_have_title(re.compile("Thread"))
    thread_url = milo.page.url.replace(world.url, "")
    open_live(milo, thread_url, "section.thread")

    open_live(olga, channel, "section.timeline")
    olga_root = olga.page.locator("article.post", has_text="Who owns the VPN certificates?")
    olga_root.get_by_role("link", name="Reply").click()
    olga.send("Reply", "The platform team, ask in #platform")

    reply = milo.page.locator("article.post", has_text="The platform team")
    expect(reply).to_be_visible()
    expect(milo.page.locator(".thread-divider")).to_have_text(re.compile(r"1 reply"))
    assert not_reloaded(milo)
    milo.shot("reply-live")
