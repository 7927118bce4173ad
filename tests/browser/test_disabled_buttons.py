"""A button the policy refuses looks refused: four-eyes publication in a real browser. The author
of a draft in review sees Publish greyed out, with the reason on hover and under the button.

Needs Chromium (skipped otherwise, see tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest

from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb import actions as kb

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
from playwright.sync_api import expect

STYLE = """el => { const s = getComputedStyle(el);
  return {cursor: s.cursor, opacity: parseFloat(s.opacity), background: s.backgroundColor, color: s.color}; }"""


def _draft_in_review_by_the_curator(world) -> int:
    world.app.config["POLICY"].setdefault("publication", {})["require_second_approver"] = True
    with world.app.app_context():
        carla = db.session.get(User, world.ids["curator"])
        art = kb.create_article(carla, world.ids["handbook"], "Rotating the signing key", "Run vault rotate.")
        kb.transition_article(carla, art.id, "in_review")
        db.session.remove()
        return art.id


def test_the_author_sees_a_greyed_out_publish_button_with_the_reason(open_session, world):
    article_id = _draft_in_review_by_the_curator(world)
    carla = open_session("curator")
    carla.goto(f"/articles/{article_id}")
    publish = carla.page.get_by_role("button", name="Publish")
    back = carla.page.get_by_role("button", name="Back to draft")
    expect(publish).to_be_disabled()
    expect(back).to_be_enabled()
    # the reason: visible under the button, read out with it, and on hover
    hint = carla.page.locator("#refusal-published")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("second curator")
    expect(publish).to_have_attribute("aria-describedby", "refusal-published")
    expect(publish).to_have_attribute("title", re.compile("second curator"))

    disabled, enabled = publish.evaluate(STYLE), back.evaluate(STYLE)
    assert disabled["cursor"] == "not-allowed" and enabled["cursor"] == "pointer", (disabled, enabled)
    assert disabled["opacity"] < 0.8 <= enabled["opacity"], (disabled, enabled)
    # hovering does not light it up as an active primary button does
    before = publish.evaluate(STYLE)
    publish.hover(force=True)
    assert publish.evaluate(STYLE)["background"] == before["background"]
    carla.shot("publish-disabled")
