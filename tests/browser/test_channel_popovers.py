"""A channel page carries one reaction picker and one flag form for all its posts (app.js copies
them into a post's popover when it opens); its icons come from one sprite. Without JavaScript,
the popovers lead to the post's page, whose cards carry the forms.

Needs Chromium at /usr/bin/chromium (skipped otherwise, see conftest.py).
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect  # (without Chromium, the browser fixture skips)


def _post_by_olga(open_session, world, text: str) -> None:
    olga = open_session("other")
    olga.goto(f"/channels/{world.ids['engineering']}")
    olga.send("Message", text)
    expect(olga.page.locator("article.post", has_text=text)).to_be_visible()


def test_a_member_flags_a_post_from_the_channel_page(open_session, world):
    _post_by_olga(open_session, world, "Buy cheap watches at example.test")
    milo = open_session("member")
    with milo.page.expect_response(re.compile(r"/icons\.svg")) as sprite:
        milo.goto(f"/channels/{world.ids['engineering']}")
    assert sprite.value.status == 200 and sprite.value.headers["content-type"].startswith("image/svg+xml")
    post = milo.page.locator("article.post", has_text="Buy cheap watches")
    expect(post.locator("details.flag form")).to_have_count(0)  # not on the page until opened
    post.locator("details.flag summary").click()
    post.get_by_label("Which rule does it break?").fill("Spam")
    milo.shot("flagging")
    post.get_by_role("button", name="Flag for moderators").click()
    expect(milo.page.locator(".flash")).to_contain_text("a moderator will look at this post")
    carla = open_session("curator")
    carla.goto("/moderation")
    expect(carla.page.locator("main")).to_contain_text("Buy cheap watches")
    expect(carla.page.locator("main")).to_contain_text("Spam")


def test_without_javascript_a_reaction_is_made_on_the_posts_page(open_session, world):
    _post_by_olga(open_session, world, "Lunch at noon?")
    milo = open_session("member", java_script_enabled=False)
    milo.goto(f"/channels/{world.ids['engineering']}")
    post = milo.page.locator("article.post", has_text="Lunch at noon?")
    post.locator("details.react-picker summary").click()
    post.get_by_role("link", name="Pick a reaction on the post's page").click()
    expect(milo.page).to_have_title(re.compile("Thread"))
    root = milo.page.locator("article.post-root")
    expect(root.locator("details.react-picker")).to_have_attribute("open", "")  # the link's #emoji-<id> opened it
    root.get_by_role("button", name="React with 🎉").click()
    reacted = milo.page.locator("article.post", has_text="Lunch at noon?").locator(".reaction", has_text="🎉")
    expect(reacted).to_have_attribute("aria-pressed", "true")  # back on the post's channel page
    milo.shot("reacted-without-javascript")
